package softkey

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const pass = "correct horse"

func newV2(t *testing.T) (*StateV2, Keys) {
	t.Helper()
	s, err := NewStateV2(pass)
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddSite(SiteV2{ID: "aa", Name: "Office", CredentialID: "c1", Home: true}, k); err != nil {
		t.Fatal(err)
	}
	return s, k
}

func TestStateV2SealsEverySecret(t *testing.T) {
	s, k := newV2(t)
	s.SetTicket("aa", Ticket{ID: []byte("ticket-id"), Secret: []byte("ticket secret"), Expires: time.Now().Add(time.Hour)})
	path := filepath.Join(t.TempDir(), "key.json")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tapDER, _ := x509.MarshalPKCS8PrivateKey(k.Tap)
	scalar, _ := k.Tap.Bytes()
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, secret := range [][]byte{tapDER, scalar, []byte("ticket secret")} {
		if bytes.Contains(raw, secret) || bytes.Contains(raw, []byte(jsonBytes(secret))) {
			t.Fatal("a secret is in the state file in the clear")
		}
	}
	back, err := LoadV2(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := back.Keys("c1"); !errors.Is(err, ErrLocked) {
		t.Errorf("keys before opening: got %v, want %v", err, ErrLocked)
	}
	if err := back.Open("wrong horse"); !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("wrong passphrase: got %v, want %v", err, ErrWrongPIN)
	}
	if err := back.Open(pass); err != nil {
		t.Fatal(err)
	}
	got, err := back.Keys("c1")
	if err != nil || !got.Tap.Equal(k.Tap) || !got.UV.Equal(k.UV) {
		t.Fatalf("keys after opening: %v", err)
	}
	if tk, ok := back.Ticket("aa", time.Now()); !ok || string(tk.Secret) != "ticket secret" {
		t.Errorf("ticket: %+v %v", tk, ok)
	}
	if _, ok := back.Ticket("aa", time.Now().Add(2*time.Hour)); ok {
		t.Error("an expired ticket was offered")
	}
	// Saving again seals under the same passphrase without asking for it.
	back.DropTicket("aa")
	if err := back.Save(path); err != nil {
		t.Fatal(err)
	}
	again, _ := LoadV2(path)
	if err := again.Open(pass); err != nil {
		t.Fatal(err)
	}
	if _, ok := again.Ticket("aa", time.Now()); ok {
		t.Error("a dropped ticket came back")
	}
	if f, err := Format(path); err != nil || f != FormatVersion2 {
		t.Errorf("Format: %d %v", f, err)
	}
}

func jsonBytes(b []byte) string {
	j, _ := json.Marshal(b)
	return string(j[1 : len(j)-1])
}

func TestStateV2Refuses(t *testing.T) {
	if _, err := NewStateV2("1234"); err == nil {
		t.Error("a four-digit PIN was taken as a passphrase")
	}
	s, _ := newV2(t)
	path := filepath.Join(t.TempDir(), "key.json")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	for _, edit := range []func(*StateV2){
		func(s *StateV2) { s.Vault.MemoryKiB = 1 << 30 },
		func(s *StateV2) { s.Vault.Time = 1000 },
		func(s *StateV2) { s.Vault.KDF = "pbkdf2" },
		func(s *StateV2) { s.Vault.Nonce = nil },
	} {
		back, _ := LoadV2(path)
		edit(back)
		if err := back.Open(pass); err == nil || errors.Is(err, ErrWrongPIN) {
			t.Errorf("hostile parameters: got %v, want a refusal before any derivation", err)
		}
	}
	var locked StateV2
	if err := locked.Save(path); !errors.Is(err, ErrLocked) {
		t.Errorf("saving a locked state: got %v, want %v", err, ErrLocked)
	}
}

func TestStateV2Pending(t *testing.T) {
	s, _ := newV2(t)
	now := time.Now()
	for _, id := range []string{"p1", "p2"} {
		k, _ := NewKeys()
		if err := s.AddPending(PendingShare{CredentialID: id, AdminEmail: id + "@b.example", ExpiresAt: now.Add(time.Hour)}, k, []byte("intro "+id)); err != nil {
			t.Fatal(err)
		}
	}
	// Offered in turn, the one offered longest ago first.
	p, _, intro, err := s.NextPending(now)
	if err != nil || p == nil || p.CredentialID != "p1" || string(intro) != "intro p1" {
		t.Fatalf("first: %+v %q %v", p, intro, err)
	}
	p.LastOffered = now
	if p, _, _, _ := s.NextPending(now); p == nil || p.CredentialID != "p2" {
		t.Fatalf("second: %+v, want p2", p)
	}
	s.Introduced("p2", SiteV2{ID: "bb", Name: "Site B"})
	if s.Site("bb") == nil || s.Site("bb").CredentialID != "p2" || len(s.Pending) != 1 {
		t.Fatalf("after the introduction: sites %+v pending %+v", s.Sites, s.Pending)
	}
	if _, err := s.Keys("p2"); err != nil {
		t.Errorf("the introduced site's keys: %v", err)
	}
	if p, _, _, _ := s.NextPending(now.Add(2 * time.Hour)); p != nil || len(s.Pending) != 0 {
		t.Errorf("expired shares: %+v, want dropped", s.Pending)
	}
}
