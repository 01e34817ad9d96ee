package ble

import (
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, for seeding with raw SQL

	"postern/access"
	"postern/access/protocol"
	"postern/access/softkey"
	"postern/store"
)

// The benchmark site: a large office's worth of people and a few years of
// door events, so the reader's lookups run against tables of a real size.
const (
	benchUsers  = 100_000
	benchGroups = 100
	benchDoors  = 10
	benchEvents = 1_000_000
	// benchSeedVersion names the seed in the cached file: bump it whenever
	// seedBenchDB changes what it writes.
	benchSeedVersion = 1
)

// seedBenchDB fills a freshly migrated database with users users (each in
// one of benchGroups groups, each with an active credential), benchDoors
// access points, group and personal permissions (some within a time
// profile) and events events, in one transaction of raw SQL. The rows are
// generated inside SQLite, so a million events take seconds, not minutes.
func seedBenchDB(ctx context.Context, path string, users, events int) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)")
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// n counts 1..?: each step below generates its rows from it.
	const n = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) `
	steps := []struct {
		q    string
		args []any
	}{
		{n + `INSERT INTO access_points (id, name, reader, mode, rssi_threshold, unlock_ms, created_at, updated_at)
			SELECT i, 'Door ' || i, 'sim:door' || i, 'direct', -60, 5000, 0, 0 FROM n`, []any{benchDoors}},
		{n + `INSERT INTO time_profiles (id, name, windows, holidays)
			SELECT i, 'Profile ' || i, '[{"days":[1,2,3,4,5],"start":480,"end":1080}]', '["2026-12-25"]' FROM n`, []any{3}},
		{n + `INSERT INTO groups (id, name) SELECT i, 'Group ' || i FROM n`, []any{benchGroups}},
		{n + `INSERT INTO users (id, first_name, last_name, email, enabled, created_at, updated_at, sort_name, sort_email)
			SELECT i, 'First' || (i % 997), 'Last' || (i % 991), 'user' || i || '@example.com', 1, 0, 0,
				postern_name_sort_key('First' || (i % 997), 'Last' || (i % 991)), postern_email_sort_key('user' || i || '@example.com') FROM n`, []any{users}},
		{n + `INSERT INTO group_members (group_id, user_id) SELECT (i - 1) % ? + 1, i FROM n`, []any{users, benchGroups}},
		{n + `INSERT INTO credentials (id, user_id, kind, status, tap_key, uv_key, device_info, created_at, registered_at)
			SELECT randomblob(16), i, 'smart', 'active', randomblob(65), randomblob(65), 'seeded', 0, 0 FROM n`, []any{users}},
		// Every group at one door at any time; every other group also at
		// door 1 within a time profile; every tenth user at door 1 in
		// person: door 1 is the busy front door.
		{n + `INSERT INTO permissions (group_id, access_point_id) SELECT i, (i - 1) % ? + 1 FROM n`, []any{benchGroups, benchDoors}},
		{n + `INSERT INTO permissions (group_id, access_point_id, time_profile_id) SELECT i, 1, i % 3 + 1 FROM n WHERE i % 2 = 0`, []any{benchGroups}},
		{n + `INSERT INTO permissions (user_id, access_point_id) SELECT i, 1 FROM n WHERE i % 10 = 1`, []any{users}},
		// Decisions at every door, a tenth of them denials, with the odd
		// admin change in between.
		{n + `INSERT INTO events (at, kind, reason, actor, user_id, access_point_id, credential_id, rssi, latency_us, detail)
			SELECT ? + i * 60000,
				CASE WHEN i % 100 = 0 THEN 'user.updated' WHEN i % 10 = 0 THEN 'access.denied' ELSE 'access.granted' END,
				CASE WHEN i % 100 = 0 THEN '' WHEN i % 10 = 0 THEN 'no permission' ELSE 'granted' END,
				CASE WHEN i % 100 = 0 THEN 'admin:ann@example.com' ELSE 'reader:sim:door' || (i % ? + 1) END,
				(i * 7919) % ? + 1,
				CASE WHEN i % 100 = 0 THEN NULL ELSE i % ? + 1 END,
				lower(hex(randomblob(16))), -50 - i % 30, 2000 + i % 5000, ''
			FROM n`, []any{events, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), benchDoors, users, benchDoors}},
	}
	for i, st := range steps {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return fmt.Errorf("seed step %d: %w", i+1, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	// A self-contained file, so it can be cached and copied on its own.
	_, err = db.ExecContext(ctx, `PRAGMA journal_mode = DELETE`)
	return err
}

// seededStoreFile returns a database file holding the benchmark site,
// seeding it the first time. The full seed is cached in os.TempDir() under
// the schema version, so repeated runs do not seed again; under -short a
// small seed is made afresh.
func seededStoreFile(b *testing.B) string {
	b.Helper()
	ctx := b.Context()
	users, events := benchUsers, benchEvents
	cached := filepath.Join(os.TempDir(), fmt.Sprintf("postern-bench-schema%s-seed%d.db", store.SchemaID(), benchSeedVersion))
	if testing.Short() {
		users, events = 1_000, 10_000
		cached = ""
	} else if _, err := os.Stat(cached); err == nil {
		return cached
	}
	dir, err := os.MkdirTemp(os.TempDir(), "postern-bench-seed-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.Site(ctx); err != nil {
		b.Fatal(err)
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	path := filepath.Join(dir, store.FileName)
	if err := seedBenchDB(ctx, path, users, events); err != nil {
		b.Fatalf("seed: %v", err)
	}
	b.Logf("seeded %d users and %d events in %v", users, events, time.Since(start).Round(time.Millisecond))
	if cached == "" {
		cached = filepath.Join(b.TempDir(), "seeded.db")
	}
	// Rename into place: a run interrupted while seeding leaves no half
	// file under the cached name.
	if err := os.Rename(path, cached); err != nil {
		b.Fatal(err)
	}
	return cached
}

// benchSite is a seeded site with one more user's credential registered by
// the benchmark, whose keys it holds.
type benchSite struct {
	st   *store.Store
	site access.Site
	ap   access.AccessPoint // the busy front door
	h    holder
}

func openBenchSite(b *testing.B) benchSite {
	b.Helper()
	ctx := b.Context()
	src := seededStoreFile(b)
	dir := b.TempDir()
	// A copy per run: the benchmark's own decisions do not grow the cache.
	if err := copyFile(src, filepath.Join(dir, store.FileName)); err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	site, err := st.Site(ctx)
	if err != nil {
		b.Fatal(err)
	}
	ap, err := st.AccessPointByID(ctx, 1)
	if err != nil {
		b.Fatal(err)
	}
	u := access.User{FirstName: "Bench", LastName: "Holder", Email: "bench@example.com", Enabled: true}
	if err := st.CreateUser(ctx, "bench", &u); err != nil {
		b.Fatal(err)
	}
	// In group 1, like a hundredth of the site, which reaches door 1.
	if err := st.SetUserGroups(ctx, "bench", u.ID, []int64{1}); err != nil {
		b.Fatal(err)
	}
	h, err := registerHolder(ctx, st, u)
	if err != nil {
		b.Fatal(err)
	}
	return benchSite{st: st, site: site, ap: ap, h: h}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// keyAnswer is the key's work on a challenge: parse, check the site's
// signature, respond with the tap key.
func keyAnswer(msg []byte, h holder, sitePub *ecdsa.PublicKey) ([]byte, *protocol.Session, error) {
	ch, err := protocol.ParseChallenge(msg)
	if err != nil {
		return nil, nil, err
	}
	if err := ch.Verify(sitePub); err != nil {
		return nil, nil, err
	}
	return protocol.Respond(nil, ch, protocol.CredentialID(h.cred.ID), h.keys.Tap, false)
}

// BenchmarkPresentation is the reader's side of one presentation at the
// busy door of a site with 100k users in 100 groups and 1M events.
//
// "steps" runs what SiteExchange.Exchange runs, step by step, with the key's
// work outside the timer, and reports each step's share per op; "exchange"
// runs SiteExchange.Exchange itself over a Pipe with an honest key, and
// reports the key's share (which the timer includes there) as key-ns/op.
func BenchmarkPresentation(b *testing.B) {
	env := openBenchSite(b)
	ctx := b.Context()
	sitePub := &env.site.Key.PublicKey

	b.Run("steps", func(b *testing.B) {
		pending := protocol.NewPending(time.Now, 0)
		var load, challenge, open, inputs, verify, decide, record, seal, key time.Duration
		b.ResetTimer()
		for range b.N {
			t0 := time.Now()
			ap, err := env.st.AccessPointByID(ctx, env.ap.ID)
			if err != nil {
				b.Fatal(err)
			}
			site, err := env.st.Site(ctx)
			if err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			ch, eph, err := protocol.NewChallenge(nil, site.Key, protocol.SiteID(site.ID), ReaderID(site.ID, ap.Reader), 0, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			if err := pending.Issue(ch, eph); err != nil {
				b.Fatal(err)
			}
			msg := ch.Marshal()
			t2 := time.Now()

			b.StopTimer()
			resp, sess, err := keyAnswer(msg, env.h, sitePub)
			if err != nil {
				b.Fatal(err)
			}
			key += time.Since(t2)
			b.StartTimer()

			t3 := time.Now()
			opened, err := pending.Open(ch.Nonce, resp)
			if err != nil {
				b.Fatal(err)
			}
			credID := access.CredentialID(opened.CredentialID)
			t4 := time.Now()
			in, err := env.st.PresentationInputs(ctx, credID, ap)
			if err != nil || in.Credential == nil {
				b.Fatalf("inputs: %+v, %v", in, err)
			}
			t5 := time.Now()
			pub, err := protocol.ParsePublicKey(in.Credential.TapKey)
			if err != nil {
				b.Fatal(err)
			}
			if err := opened.Verify(pub); err != nil {
				b.Fatal(err)
			}
			t6 := time.Now()
			in.Now = time.Now()
			in.Location = env.st.SiteLocation(ctx)
			d := access.Decide(in)
			if !d.Granted {
				b.Fatalf("got %v, want granted", d.Reason)
			}
			t7 := time.Now()
			e := &access.Event{At: in.Now, Kind: "access.granted", Reason: d.Reason.String(), Actor: "reader:" + ap.Reader,
				AccessPointID: ap.ID, CredentialID: credID.String(), UserID: in.User.ID, RSSI: -50, Latency: t7.Sub(t0), Detail: in.User.Name()}
			if err := env.st.RecordDecision(ctx, e, &credID, in.Now); err != nil {
				b.Fatal(err)
			}
			t8 := time.Now()
			out, err := protocol.SealResult(opened.Session, protocol.Result{Granted: true, Reason: protocol.ReasonGranted, Message: "Welcome"})
			if err != nil {
				b.Fatal(err)
			}
			t9 := time.Now()

			load += t1.Sub(t0)
			challenge += t2.Sub(t1)
			open += t4.Sub(t3)
			inputs += t5.Sub(t4)
			verify += t6.Sub(t5)
			decide += t7.Sub(t6)
			record += t8.Sub(t7)
			seal += t9.Sub(t8)

			b.StopTimer()
			res, err := protocol.OpenResult(sess, out)
			if err != nil || !res.Granted {
				b.Fatalf("the key read %+v, %v", res, err)
			}
			b.StartTimer()
		}
		per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
		b.ReportMetric(per(load), "load-ns/op")
		b.ReportMetric(per(challenge), "challenge-ns/op")
		b.ReportMetric(per(open), "open-ns/op")
		b.ReportMetric(per(inputs), "inputs-ns/op")
		b.ReportMetric(per(verify), "verify-ns/op")
		b.ReportMetric(per(decide), "decide-ns/op")
		b.ReportMetric(per(record), "record-ns/op")
		b.ReportMetric(per(seal), "seal-ns/op")
		b.ReportMetric(per(key), "key-ns/op")
	})

	b.Run("exchange", func(b *testing.B) {
		x := NewSiteExchange(env.st, LogDoor{Logger: slog.New(slog.DiscardHandler)}, 0, slog.New(slog.DiscardHandler))
		// A version 1 key waits to be challenged: on the radio the reader
		// first waits for a version 2 hello (DefaultHelloWait). That wait is
		// idle time, not work; a Pipe needs none of it.
		x.HelloWait = time.Millisecond
		k := KeyCredential{
			ID:     protocol.CredentialID(env.h.cred.ID),
			Tap:    env.h.keys.Tap,
			Sites:  map[protocol.SiteID]*ecdsa.PublicKey{protocol.SiteID(env.site.ID): sitePub},
			Strict: true,
		}
		rc := ReaderConfig{ID: env.ap.ID, Name: env.ap.Name, Binding: env.ap.Reader}
		var key time.Duration
		b.ResetTimer()
		for range b.N {
			readerEnd, keyEnd := Pipe()
			timed := &keyTimer{Link: keyEnd}
			done := make(chan error, 1)
			go func() {
				out, err := PresentKey(ctx, timed, k, false)
				if err == nil && !out.Result.Granted {
					err = fmt.Errorf("got %v, want granted", out.Result.Reason)
				}
				timed.end = time.Now()
				done <- err
			}()
			if err := x.Exchange(ctx, rc, Candidate{Addr: "40:00:00:00:00:01", RSSI: -50}, readerEnd); err != nil {
				b.Fatal(err)
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			readerEnd.Close()
			keyEnd.Close()
			key += timed.share()
		}
		b.ReportMetric(float64(key.Nanoseconds())/float64(b.N), "key-ns/op")
	})

	// Version 2 over a Pipe: the full exchange every time (no ticket
	// offered), and the expedited one (each presentation offers the ticket
	// the one before it handed out).
	for _, expedited := range []bool{false, true} {
		name := "exchange-v2-full"
		if expedited {
			name = "exchange-v2-expedited"
		}
		b.Run(name, func(b *testing.B) {
			x := NewSiteExchange(env.st, LogDoor{Logger: slog.New(slog.DiscardHandler)}, 0, slog.New(slog.DiscardHandler))
			pin := protocol.SitePin{Site: protocol.SiteID(env.site.ID), KeyID: protocol.PublicKeyID(sitePub), Key: sitePub}
			k := KeyCredentialV2{Sites: map[protocol.SiteID]KeySite{pin.Site: {Pin: pin, Credential: protocol.CredentialID(env.h.cred.ID), Tap: env.h.keys.Tap}}}
			rc := ReaderConfig{ID: env.ap.ID, Name: env.ap.Name, Binding: env.ap.Reader}
			present := func() KeyOutcomeV2 {
				readerEnd, keyEnd := Pipe()
				defer readerEnd.Close()
				defer keyEnd.Close()
				done := make(chan KeyOutcomeV2, 1)
				go func() {
					out, err := PresentKeyV2(ctx, keyEnd, k)
					if err != nil || !out.Result.Granted {
						b.Errorf("key: %+v, %v", out.Result, err)
					}
					done <- out
				}()
				if err := x.Exchange(ctx, rc, Candidate{Addr: "40:00:00:00:00:01", RSSI: -50}, readerEnd); err != nil {
					b.Fatal(err)
				}
				return <-done
			}
			if expedited {
				out := present()
				k.Ticket, k.TicketSite = out.Next, out.Site
			}
			b.ResetTimer()
			for range b.N {
				out := present()
				if expedited {
					if out.Path != protocol.PathExpedited {
						b.Fatalf("path %v, want expedited", out.Path)
					}
					k.Ticket = out.Next
				}
			}
		})
	}
}

// keyTimer is the key's end of a Pipe that times the key's own work: from
// the challenge's arrival to the response leaving, and from the result's
// arrival to the key being done with it.
type keyTimer struct {
	Link
	recvs                      int
	challenge, respond, result time.Time
	end                        time.Time
}

func (l *keyTimer) Recv(ctx context.Context) ([]byte, error) {
	m, err := l.Link.Recv(ctx)
	l.recvs++
	if l.recvs == 1 {
		l.challenge = time.Now()
	} else {
		l.result = time.Now()
	}
	return m, err
}

func (l *keyTimer) Send(ctx context.Context, msg []byte) error {
	l.respond = time.Now()
	return l.Link.Send(ctx, msg)
}

func (l *keyTimer) share() time.Duration {
	return l.respond.Sub(l.challenge) + l.end.Sub(l.result)
}

// BenchmarkCryptoFloor is the public-key work of one presentation alone:
// what no store or radio can make cheaper.
func BenchmarkCryptoFloor(b *testing.B) {
	siteKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	keys, err := softkey.NewKeys()
	if err != nil {
		b.Fatal(err)
	}
	siteID := protocol.SiteID{1}
	readerID := ReaderID(siteID, "sim:front")
	cred := protocol.CredentialID{2}
	ch, eph, err := protocol.NewChallenge(nil, siteKey, siteID, readerID, 0, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	resp, _, err := protocol.Respond(nil, ch, cred, keys.Tap, false)
	if err != nil {
		b.Fatal(err)
	}
	opened, err := protocol.OpenResponse(ch, eph, resp)
	if err != nil {
		b.Fatal(err)
	}

	// The reader's three.
	b.Run("site-signature", func(b *testing.B) {
		// NewChallenge: nonce, ephemeral ECDH key, ECDSA signature.
		for b.Loop() {
			if _, _, err := protocol.NewChallenge(nil, siteKey, siteID, readerID, 0, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ecdh", func(b *testing.B) {
		// The shared secret alone.
		peer, err := ecdh.P256().GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := eph.ECDH(peer.PublicKey()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("open-response", func(b *testing.B) {
		// OpenResponse whole: ECDH, HKDF, AES-GCM.
		for b.Loop() {
			if _, err := protocol.OpenResponse(ch, eph, resp); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("key-signature-verify", func(b *testing.B) {
		for b.Loop() {
			if err := opened.Verify(&keys.Tap.PublicKey); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The key's, for comparison: verify the site, then answer.
	b.Run("key-respond", func(b *testing.B) {
		for b.Loop() {
			if err := ch.Verify(&siteKey.PublicKey); err != nil {
				b.Fatal(err)
			}
			if _, _, err := protocol.Respond(nil, ch, cred, keys.Tap, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}
