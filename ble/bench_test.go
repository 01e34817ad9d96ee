package ble

import (
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"postern/access"
	"postern/access/protocol"
	"postern/access/softkey"
	"postern/store"
	"postern/store/storetest"
)

// benchSite is the large site (100k users, 1k access points, 1M events)
// with holders registered by the benchmark, whose keys it holds.
type benchSite struct {
	st      *store.Store
	path    string // the database file
	site    access.Site
	ap      access.AccessPoint // the busy front door
	holders []holder
}

// openBenchSite opens the large site and registers n holders in group 1,
// which reaches the front door, as a hundredth of the site does.
func openBenchSite(b *testing.B, n int) benchSite {
	b.Helper()
	ctx := b.Context()
	st, path := storetest.Open(b, storetest.Large)
	site, err := st.Site(ctx)
	if err != nil {
		b.Fatal(err)
	}
	env := benchSite{st: st, path: path, site: site}
	for i := range n {
		u := access.User{FirstName: "Bench", LastName: fmt.Sprint("Holder ", i), Email: fmt.Sprintf("bench%d@example.com", i), Enabled: true}
		if err := st.CreateUser(ctx, "bench", &u); err != nil {
			b.Fatal(err)
		}
		if err := st.SetUserGroups(ctx, "bench", u.ID, []int64{1}); err != nil {
			b.Fatal(err)
		}
		h, err := registerHolder(ctx, st, u)
		if err != nil {
			b.Fatal(err)
		}
		env.holders = append(env.holders, h)
	}
	// As serve does at start-up.
	if _, err := st.LoadPolicy(ctx); err != nil {
		b.Fatal(err)
	}
	if env.ap, err = st.AccessPointByID(ctx, 1); err != nil {
		b.Fatal(err)
	}
	return env
}

// keyCredential is what a holder's key presents.
func (env benchSite) keyCredential(h holder) KeyCredential {
	return KeyCredential{
		ID:     protocol.CredentialID(h.cred.ID),
		Tap:    h.keys.Tap,
		Sites:  map[protocol.SiteID]*ecdsa.PublicKey{protocol.SiteID(env.site.ID): &env.site.Key.PublicKey},
		Strict: true,
	}
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

// floor is the least a presentation at a reader can cost: its public-key
// work and one durable append of its event, with the store's pragmas. It
// is measured in the same run as what it is the floor of, so the ratio
// holds on a busy machine too.
type floor struct {
	b        *testing.B
	siteKey  *ecdsa.PrivateKey
	siteID   protocol.SiteID
	readerID protocol.ReaderID
	tap      *ecdsa.PrivateKey
	cred     protocol.CredentialID
	user, ap int64   // the event names them, as a decision's does
	db       *sql.DB // a connection of its own, synchronous=FULL
	crypto   time.Duration
	append   time.Duration
	n        int
}

func newFloor(b *testing.B, env benchSite) *floor {
	b.Helper()
	db, err := sql.Open("sqlite", store.DataSourceName(env.path))
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	b.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(b.Context(), `PRAGMA synchronous = FULL`); err != nil {
		b.Fatal(err)
	}
	h := env.holders[0]
	return &floor{b: b, siteKey: env.site.Key, siteID: protocol.SiteID(env.site.ID), readerID: ReaderID(env.site.ID, env.ap.Reader),
		tap: h.keys.Tap, cred: protocol.CredentialID(h.cred.ID), user: h.user.ID, ap: env.ap.ID, db: db}
}

// measure runs the floor once: the reader's signature on a challenge, the
// opening of a response, the check of the key's signature and the sealing
// of the result, then the event's append. The key's answer is made outside
// the timing.
func (f *floor) measure() {
	b := f.b
	t0 := time.Now()
	ch, eph, err := protocol.NewChallenge(nil, f.siteKey, f.siteID, f.readerID, 0, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	t1 := time.Now()
	resp, _, err := protocol.Respond(nil, ch, f.cred, f.tap, false)
	if err != nil {
		b.Fatal(err)
	}
	t2 := time.Now()
	opened, err := protocol.OpenResponse(ch, eph, resp)
	if err != nil {
		b.Fatal(err)
	}
	if err := opened.Verify(&f.tap.PublicKey); err != nil {
		b.Fatal(err)
	}
	if _, err := protocol.SealResult(opened.Session, protocol.Result{Granted: true, Reason: protocol.ReasonGranted, Message: "Welcome"}); err != nil {
		b.Fatal(err)
	}
	t3 := time.Now()
	if _, err := f.db.ExecContext(b.Context(), `INSERT INTO events (at, kind, reason, actor, user_id, access_point_id, credential_id, rssi, latency_us, detail)
		VALUES (?, 'access.granted', 'granted', 'reader:floor', ?, ?, ?, -50, 1000, 'Bench Holder')`, t3.UnixMilli(), f.user, f.ap, fmt.Sprintf("%x", f.cred)); err != nil {
		b.Fatal(err)
	}
	t4 := time.Now()
	f.crypto += t1.Sub(t0) + t3.Sub(t2)
	f.append += t4.Sub(t3)
	f.n++
}

// report adds the floor's figures, and readerNS's ratio to it.
func (f *floor) report(readerNS float64) {
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(f.n) }
	fl := per(f.crypto) + per(f.append)
	f.b.ReportMetric(per(f.crypto), "floor-crypto-ns/op")
	f.b.ReportMetric(per(f.append), "floor-append-ns/op")
	f.b.ReportMetric(fl, "floor-ns/op")
	f.b.ReportMetric(readerNS/fl, "x-floor")
}

// BenchmarkPresentation is the reader's side of one presentation at the
// busy door of the large site, beside its floor (floor-ns/op: the crypto
// and one durable append) measured in the same loop; x-floor is the ratio.
//
// "steps" runs what SiteExchange.Exchange runs, step by step, with the key's
// work outside the timing, and reports each step's share per op; "exchange"
// runs SiteExchange.Exchange itself over a Pipe with an honest key and
// subtracts the key's share (key-ns/op). reader-ns/op is the reader's side.
func BenchmarkPresentation(b *testing.B) {
	env := openBenchSite(b, 1)
	ctx := b.Context()
	sitePub := &env.site.Key.PublicKey
	h := env.holders[0]

	b.Run("steps", func(b *testing.B) {
		pending := protocol.NewPending(time.Now, 0)
		f := newFloor(b, env)
		var load, challenge, open, inputs, verify, decide, record, seal time.Duration
		for b.Loop() {
			t0 := time.Now()
			ap, err := env.st.AccessPointByID(ctx, env.ap.ID)
			if err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			ch, eph, err := protocol.NewChallenge(nil, env.site.Key, protocol.SiteID(env.site.ID), ReaderID(env.site.ID, ap.Reader), 0, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			if err := pending.Issue(ch, eph); err != nil {
				b.Fatal(err)
			}
			msg := ch.Marshal()
			t2 := time.Now()
			resp, sess, err := keyAnswer(msg, h, sitePub)
			if err != nil {
				b.Fatal(err)
			}
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

			if res, err := protocol.OpenResult(sess, out); err != nil || !res.Granted {
				b.Fatalf("the key read %+v, %v", res, err)
			}
			f.measure()
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
		reader := per(load + challenge + open + inputs + verify + decide + record + seal)
		b.ReportMetric(reader, "reader-ns/op")
		f.report(reader)
	})

	b.Run("exchange", func(b *testing.B) {
		x := NewSiteExchange(env.st, LogDoor{Logger: slog.New(slog.DiscardHandler)}, 0, slog.New(slog.DiscardHandler))
		// A version 1 key waits to be challenged: on the radio the reader
		// first waits for a version 2 hello (DefaultHelloWait). That wait is
		// idle time, not work; a Pipe needs none of it.
		x.HelloWait = time.Millisecond
		k := env.keyCredential(h)
		rc := ReaderConfig{ID: env.ap.ID, Name: env.ap.Name, Binding: env.ap.Reader}
		f := newFloor(b, env)
		var key, total time.Duration
		for b.Loop() {
			readerEnd, keyEnd := Pipe()
			timed := &keyTimer{Link: keyEnd}
			done := make(chan error, 1)
			start := time.Now()
			go func() {
				out, err := PresentKey(ctx, timed, k, false)
				if err == nil && !out.Result.Granted {
					err = fmt.Errorf("got %v, want granted", out.Result.Reason)
				}
				timed.end = time.Now()
				done <- err
			}()
			err := x.Exchange(ctx, rc, Candidate{Addr: "40:00:00:00:00:01", RSSI: -50}, readerEnd)
			readerEnd.Close()
			if kerr := <-done; err == nil {
				err = kerr
			}
			if err != nil {
				b.Fatal(err)
			}
			total += time.Since(start)
			keyEnd.Close()
			key += timed.share()
			f.measure()
		}
		per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
		b.ReportMetric(per(key), "key-ns/op")
		reader := per(total - key)
		b.ReportMetric(reader, "reader-ns/op")
		f.report(reader)
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
			k := KeyCredentialV2{Sites: map[protocol.SiteID]KeySite{pin.Site: {Pin: pin, Credential: protocol.CredentialID(h.cred.ID), Tap: h.keys.Tap}}}
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

// cryptoOnlyStore is a SiteStore that costs nothing: the same answers as
// the real store, from a map, and decisions written nowhere. A storm
// against it is what the cryptography alone allows.
type cryptoOnlyStore struct {
	site access.Site
	ap   access.AccessPoint
	reqs map[access.CredentialID]access.Request
}

func (s cryptoOnlyStore) Site(context.Context) (access.Site, error) { return s.site, nil }
func (s cryptoOnlyStore) AccessPointByID(context.Context, int64) (access.AccessPoint, error) {
	return s.ap, nil
}
func (s cryptoOnlyStore) PresentationInputs(_ context.Context, id access.CredentialID, _ access.AccessPoint) (access.Request, error) {
	return s.reqs[id], nil
}
func (s cryptoOnlyStore) ReplacedDevices(context.Context, access.CredentialID) ([]access.DeviceKeys, error) {
	return nil, nil
}
func (s cryptoOnlyStore) RecordDecision(context.Context, *access.Event, *access.CredentialID, time.Time) error {
	return nil
}
func (s cryptoOnlyStore) AppendEvent(context.Context, *access.Event) error { return nil }
func (s cryptoOnlyStore) SiteLocation(context.Context) *time.Location      { return time.UTC }

// stormKeys is how many keys present at once in BenchmarkStorm.
const stormKeys = 200

// BenchmarkStorm: 200 keys present at once at the busy door of the large
// site, again and again, for b.N decisions against a store that costs
// nothing (what the cryptography alone allows on these cores) and b.N
// against the real one, in alternating rounds of the same run, so a
// machine whose load changes meanwhile weighs on both alike. Both sides of
// every exchange run here, so both count the keys' cryptography too.
//
// crypto-decisions/s and decisions/s are wall-clock rates, x-crypto their
// ratio; x-crypto-cpu is the same ratio per CPU-second of this process,
// which other work on the machine does not skew.
func BenchmarkStorm(b *testing.B) {
	env := openBenchSite(b, stormKeys)
	ctx := b.Context()
	free := cryptoOnlyStore{site: env.site, ap: env.ap, reqs: map[access.CredentialID]access.Request{}}
	for _, h := range env.holders {
		r, err := env.st.PresentationInputs(ctx, h.cred.ID, env.ap)
		if err != nil {
			b.Fatal(err)
		}
		free.reqs[h.cred.ID] = r
	}
	door := LogDoor{Logger: slog.New(slog.DiscardHandler)}
	quiet := slog.New(slog.DiscardHandler)
	rc := ReaderConfig{ID: env.ap.ID, Name: env.ap.Name, Binding: env.ap.Reader}
	// storm makes n presentations, stormKeys at a time, and returns how
	// long they took and how many were not decided (refused as late on a
	// machine too busy to answer within the deadline, for one).
	storm := func(x *SiteExchange, n int) (time.Duration, int) {
		jobs := make(chan int, n)
		for i := range n {
			jobs <- i
		}
		close(jobs)
		var wg sync.WaitGroup
		var failed atomic.Int64
		start := time.Now()
		for k := range stormKeys {
			key := env.keyCredential(env.holders[k])
			wg.Go(func() {
				for range jobs {
					readerEnd, keyEnd := Pipe()
					done := make(chan error, 1)
					go func() {
						out, err := PresentKey(ctx, keyEnd, key, false)
						if err == nil && !out.Result.Granted {
							err = fmt.Errorf("got %v, want granted", out.Result.Reason)
						}
						done <- err
					}()
					err := x.Exchange(ctx, rc, Candidate{Addr: fmt.Sprint("key", k), RSSI: -50}, readerEnd)
					// As the reader does: hang up, so a key refused
					// without a result stops waiting for one.
					readerEnd.Close()
					if kerr := <-done; err == nil {
						err = kerr
					}
					keyEnd.Close()
					if err != nil {
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		return time.Since(start), int(failed.Load())
	}
	cryptoX := NewSiteExchange(free, door, 0, quiet)
	realX := NewSiteExchange(env.st, door, 0, quiet)
	var cryptoWall, realWall, cryptoCPU, realCPU time.Duration
	var cryptoFailed, realFailed int
	decisions0, commits0 := env.st.DecisionStats()
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(b.N-done, 4*stormKeys)
		c0 := cpuTime()
		wall, failed := storm(cryptoX, n)
		c1 := cpuTime()
		cryptoWall, cryptoCPU, cryptoFailed = cryptoWall+wall, cryptoCPU+c1-c0, cryptoFailed+failed
		wall, failed = storm(realX, n)
		realWall, realCPU, realFailed = realWall+wall, realCPU+cpuTime()-c1, realFailed+failed
		done += n
	}
	decisions, commits := env.st.DecisionStats()
	rate := func(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }
	b.ReportMetric(rate(b.N-cryptoFailed, cryptoWall), "crypto-decisions/s")
	b.ReportMetric(rate(b.N-realFailed, realWall), "decisions/s")
	b.ReportMetric(rate(b.N-realFailed, realWall)/rate(b.N-cryptoFailed, cryptoWall), "x-crypto")
	if cryptoCPU > 0 && realCPU > 0 {
		b.ReportMetric(rate(b.N-realFailed, realCPU)/rate(b.N-cryptoFailed, cryptoCPU), "x-crypto-cpu")
	}
	b.ReportMetric(float64(cryptoFailed+realFailed)/float64(2*b.N), "undecided/op")
	if c := commits - commits0; c > 0 {
		b.ReportMetric(float64(decisions-decisions0)/float64(c), "decisions/commit")
	}
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
func (s cryptoOnlyStore) Introductions(context.Context) ([]access.Introduction, error) {
	return nil, nil
}
func (s cryptoOnlyStore) CompleteIntroduction(context.Context, access.CredentialID) error {
	return nil
}
