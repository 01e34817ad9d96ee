package fleet_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"postern/access"
)

// BenchmarkRevocationReachesEveryReader measures, for a site with ten
// connected remote readers, the time from an admin's revocation being
// committed on the hub to every reader's decisions (its in-memory copy of
// the policy) refusing the credential. It reports the median and the 99th percentile.
//
//	go test ./fleet/ -run '^$' -bench Revocation -benchtime 200x
func BenchmarkRevocationReachesEveryReader(b *testing.B) {
	const readers = 10
	s := startSite(b)
	var rs []*reader
	for i := range readers {
		rs = append(rs, s.startReader(b, s.addReader(b, fmt.Sprintf("door%d", i+1))))
	}
	creds := make([]access.CredentialID, b.N)
	for i := range creds {
		creds[i] = registeredCredential(b, s.st, s.ann, fmt.Sprintf("%032d", i+1))
	}
	// Every reader has every credential before the clock starts.
	last := creds[len(creds)-1]
	for _, r := range rs {
		eventually(b, 60*time.Second, "the credentials reach the readers", func() bool {
			return r.status(b, last, s.front) == access.CredentialActive
		})
	}
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if err := s.st.RevokeCredential(b.Context(), "bench", creds[i]); err != nil {
			b.Fatal(err)
		}
		for _, r := range rs {
			for {
				if r.status(b, creds[i], s.front) == access.CredentialRevoked {
					break
				}
				if time.Since(start) > 10*time.Second {
					b.Fatalf("revocation %d not at a reader after 10 s", i)
				}
				time.Sleep(time.Millisecond)
			}
		}
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "ms-p50")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "ms-p99")
}

// status is a credential's status as the reader's decisions see it.
func (r *reader) status(b *testing.B, id access.CredentialID, ap access.AccessPoint) access.CredentialStatus {
	in, err := r.node.Store().PresentationInputs(b.Context(), id, ap)
	if err != nil || in.Credential == nil {
		return ""
	}
	return in.Credential.Status
}
