package softkey

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpenSaveLoad(t *testing.T) {
	k, err := NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	s := &State{CredentialID: "00112233445566778899aabbccddeeff", Home: Site{ID: "aa", Name: "Office", PublicKey: []byte{4, 1}}}
	if err := s.Seal(k, "1234"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.json")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("got mode %v, want 0600", got)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	tap, err := back.Tap()
	if err != nil || !tap.Equal(k.Tap) {
		t.Errorf("tap key did not survive: %v", err)
	}
	uv, err := back.UV("1234")
	if err != nil || !uv.Equal(k.UV) {
		t.Errorf("uv key did not open with the right PIN: %v", err)
	}
	if _, err := back.UV("4321"); !errors.Is(err, ErrWrongPIN) {
		t.Errorf("got %v, want ErrWrongPIN", err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "none.json")); !errors.Is(err, ErrNoCredential) {
		t.Errorf("got %v, want ErrNoCredential", err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("not json"), 0o600)
	if _, err := Load(bad); err == nil {
		t.Error("a malformed state file loaded")
	}
	old := filepath.Join(dir, "old.json")
	os.WriteFile(old, []byte(`{"version": 99}`), 0o600)
	if _, err := Load(old); err == nil {
		t.Error("a state file of an unknown format loaded")
	}
}

func TestShortPIN(t *testing.T) {
	k, _ := NewKeys()
	if err := (&State{}).Seal(k, "12"); err == nil {
		t.Error("a two-digit PIN was accepted")
	}
}

func TestRemember(t *testing.T) {
	s := &State{Home: Site{ID: "home"}}
	s.Remember(Site{ID: "other", Name: "Depot"}, s.RegisteredAt)
	s.Remember(Site{ID: "other", Name: "Depot"}, s.RegisteredAt)
	if len(s.Sites) != 1 {
		t.Fatalf("got %d sites, want 1", len(s.Sites))
	}
	if _, ok := s.Site("other"); !ok {
		t.Error("the learned site is not known")
	}
	if _, ok := s.Site("nowhere"); ok {
		t.Error("an unknown site is known")
	}
}
