package store_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"postern/access"
	"postern/store"
)

// activeV1 is a credential registered by a version 1 device.
func activeV1(t *testing.T, s *store.Store, first string, seed byte) (access.User, access.Credential) {
	t.Helper()
	u, c := activeCredential(t, s, first, seed)
	if c.Protocol != 1 {
		t.Fatalf("registered without a version: got protocol %d, want 1", c.Protocol)
	}
	return u, c
}

func TestMigrateCredential(t *testing.T) {
	s, _ := shareStore(t)
	ctx := t.Context()
	_, c := activeV1(t, s, "Ann", 1)
	tap, uv := shareKeys(2)
	m := store.Migration{ID: c.ID, TapKey: tap, UVKey: uv, DeviceInfo: "postern key 2"}
	var sawOld []byte
	got, u, err := s.MigrateCredential(ctx, m, func(old access.Credential) error { sawOld = old.TapKey; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sawOld, c.TapKey) || got.Protocol != 2 || !bytes.Equal(got.TapKey, tap) || u.FirstName != "Ann" {
		t.Fatalf("migrated %+v (checked against %x), want protocol 2 with the new keys, checked against the old", got, sawOld)
	}
	if stored, _ := s.CredentialByID(ctx, c.ID); stored.Protocol != 2 || !bytes.Equal(stored.UVKey, uv) {
		t.Errorf("stored %+v, want protocol 2 with the new keys", stored)
	}
	if n := len(eventsOfKind(t, s, "credential.migrated")); n != 1 {
		t.Errorf("%d migration events, want 1", n)
	}
	// Asked again with the same keys (an answer lost on the way): the same
	// answer, no second change, no check against keys it no longer has.
	if _, _, err := s.MigrateCredential(ctx, m, func(access.Credential) error { return errors.New("must not be called") }); err != nil {
		t.Errorf("same request again: %v", err)
	}
	// With other keys: refused, accepted once.
	other := m
	other.TapKey, other.UVKey = shareKeys(3)
	if _, _, err := s.MigrateCredential(ctx, other, func(access.Credential) error { return nil }); !errors.Is(err, store.ErrMigrated) {
		t.Errorf("other keys: got %v, want %v", err, store.ErrMigrated)
	}
	if n := len(eventsOfKind(t, s, "credential.migrated")); n != 1 {
		t.Errorf("%d migration events, want still 1", n)
	}
}

func TestMigrateCredentialRefusals(t *testing.T) {
	s, _ := shareStore(t)
	ctx := t.Context()
	_, c := activeV1(t, s, "Ann", 1)
	tap, uv := shareKeys(2)
	m := store.Migration{ID: c.ID, TapKey: tap, UVKey: uv}
	bad := errors.New("signatures do not verify")
	if _, _, err := s.MigrateCredential(ctx, m, func(access.Credential) error { return bad }); !errors.Is(err, bad) {
		t.Fatalf("bad signatures: got %v", err)
	}
	if stored, _ := s.CredentialByID(ctx, c.ID); stored.Protocol != 1 {
		t.Error("a refused migration changed the credential")
	}
	if err := s.RevokeCredential(ctx, actor, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.MigrateCredential(ctx, m, func(access.Credential) error { return nil }); !isConflict(err) {
		t.Errorf("revoked: got %v, want a conflict", err)
	}
	u := createUser(t, s, "Bo", "Visitor", "bo@b.example")
	imported := access.Credential{ID: access.NewCredentialID(), TapKey: tap, UVKey: uv, Issuer: access.IssuerSite{Name: "Home", Key: tap}}
	if err := s.ImportCredential(ctx, actor, u.ID, imported); err != nil {
		t.Fatal(err)
	}
	m.ID = imported.ID
	if _, _, err := s.MigrateCredential(ctx, m, func(access.Credential) error { return nil }); !isConflict(err) {
		t.Errorf("imported: got %v, want a conflict", err)
	}
	m.ID = access.NewCredentialID()
	if _, _, err := s.MigrateCredential(ctx, m, func(access.Credential) error { return nil }); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("unknown: got %v, want not found", err)
	}
}

// TestImportTokenOnce: a version 2 token is imported once; the second
// import, to any user, is refused.
func TestImportTokenOnce(t *testing.T) {
	s, _ := shareStore(t)
	ctx := t.Context()
	a := createUser(t, s, "Ann", "Visitor", "ann@b.example")
	b := createUser(t, s, "Bo", "Visitor", "bo@b.example")
	tap, uv := shareKeys(4)
	intro := bytes.Repeat([]byte{9}, 32)
	c := access.Credential{ID: access.NewCredentialID(), TapKey: tap, UVKey: uv, Protocol: 2, Introduction: intro, TokenID: []byte("token-one-16byte"),
		Issuer: access.IssuerSite{Name: "Home", Key: tap}}
	if err := s.ImportCredential(ctx, actor, a.ID, c); err != nil {
		t.Fatal(err)
	}
	again := c
	again.ID = access.NewCredentialID()
	if err := s.ImportCredential(ctx, actor, b.ID, again); !isConflict(err) {
		t.Fatalf("second import: got %v, want a conflict", err)
	}
	got, err := s.CredentialByID(ctx, c.ID)
	if err != nil || got.Protocol != 2 || !bytes.Equal(got.Introduction, intro) {
		t.Fatalf("imported %+v %v, want protocol 2 with its introduction", got, err)
	}
	intros, err := s.Introductions(ctx)
	if err != nil || len(intros) != 1 || intros[0].Credential != c.ID {
		t.Fatalf("introductions %+v %v, want the imported credential's", intros, err)
	}
	if err := s.CompleteIntroduction(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if intros, _ := s.Introductions(ctx); len(intros) != 0 {
		t.Errorf("introductions after completing: %+v, want none", intros)
	}
}

func TestSentShares(t *testing.T) {
	s, now := shareStore(t)
	ctx := t.Context()
	_, c := activeCredential(t, s, "Ann", 1)
	sh := store.SentShare{TokenID: [16]byte{1}, CredentialID: c.ID, AdminEmail: "admin@b.example", SiteCredentialID: [16]byte{2},
		FirstName: "Ann", LastName: "Lee", ExpiresAt: testNow.Add(30 * 24 * time.Hour)}
	mail := &shareMail{to: "admin@b.example"}
	if err := s.QueueShareV2(ctx, sh, testNow, 5, 24*time.Hour, mail.compose); !isConflict(err) {
		t.Fatalf("version 1 credential: got %v, want a conflict (migrate first)", err)
	}
	tap, uv := shareKeys(5)
	if _, _, err := s.MigrateCredential(ctx, store.Migration{ID: c.ID, TapKey: tap, UVKey: uv}, func(access.Credential) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.QueueShareV2(ctx, sh, testNow, 5, 24*time.Hour, mail.compose); err != nil {
		t.Fatal(err)
	}
	list, err := s.SentShares(ctx, nil)
	if err != nil || len(list) != 1 || list[0].TokenID != sh.TokenID || list[0].UserName != "Ann Lee" || list[0].Status(testNow) != "sent" {
		t.Fatalf("shares %+v %v, want the one sent", list, err)
	}
	if mine, _ := s.SentShares(ctx, &c.ID); len(mine) != 1 {
		t.Errorf("the credential's shares: %+v", mine)
	}
	if err := s.RedeemShare(ctx, sh.TokenID, "Site B"); err != nil {
		t.Fatalf("first redemption: %v", err)
	}
	if err := s.RedeemShare(ctx, sh.TokenID, "Site C"); !errors.Is(err, store.ErrShareRedeemed) {
		t.Errorf("second redemption: got %v, want %v", err, store.ErrShareRedeemed)
	}
	got, _ := s.SentShareByToken(ctx, sh.TokenID)
	if got.Status(testNow) != "imported" || got.RedeemedBy != "Site B" {
		t.Errorf("after redemption: %+v", got)
	}

	sh2 := sh
	sh2.TokenID = [16]byte{3}
	*now = testNow.Add(time.Minute)
	if err := s.QueueShareV2(ctx, sh2, *now, 5, 24*time.Hour, mail.compose); err != nil {
		t.Fatal(err)
	}
	if err := s.WithdrawShare(ctx, actor, sh2.TokenID); err != nil {
		t.Fatal(err)
	}
	if err := s.WithdrawShare(ctx, actor, sh2.TokenID); err != nil {
		t.Errorf("withdrawing twice: %v", err)
	}
	if err := s.RedeemShare(ctx, sh2.TokenID, "Site B"); !errors.Is(err, store.ErrShareWithdrawn) {
		t.Errorf("redeeming a withdrawn share: got %v, want %v", err, store.ErrShareWithdrawn)
	}
	if n := len(eventsOfKind(t, s, "credential.share_withdrawn")); n != 1 {
		t.Errorf("%d withdrawal events, want 1", n)
	}
	if err := s.WithdrawShare(ctx, actor, [16]byte{9}); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("unknown share: got %v, want not found", err)
	}
	*now = sh.ExpiresAt
	sh3 := sh
	sh3.TokenID = [16]byte{4}
	if err := s.QueueShareV2(ctx, sh3, *now, 5, 24*time.Hour, mail.compose); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(31 * 24 * time.Hour)
	if err := s.RedeemShare(ctx, sh3.TokenID, "Site B"); !errors.Is(err, store.ErrShareExpired) {
		t.Errorf("redeeming an expired share: got %v, want %v", err, store.ErrShareExpired)
	}
}

func TestRollSiteKey(t *testing.T) {
	s, now := shareStore(t)
	ctx := t.Context()
	before, err := s.Site(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if before.Rollover != nil || !before.AcceptV1 {
		t.Fatalf("a new site: %+v, want no rollover and version 1 accepted", before)
	}
	next, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	notAfter := testNow.Add(30 * 24 * time.Hour)
	var certified *ecdsa.PrivateKey
	err = s.RollSiteKey(ctx, actor, next, func(old *ecdsa.PrivateKey) (access.SiteRollover, error) {
		certified = old
		return access.SiteRollover{NotAfter: notAfter, Signature: []byte("signature by the old key")}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !certified.Equal(before.Key) {
		t.Error("the certificate was not made by the retired key")
	}
	after, err := s.Site(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !after.Key.Equal(next) || after.ID != before.ID || after.Rollover == nil || string(after.Rollover.Signature) != "signature by the old key" {
		t.Fatalf("after the roll: %+v, want the new key and its certificate, same site", after)
	}
	oldPub, _ := before.Key.PublicKey.Bytes()
	if !bytes.Equal(after.Rollover.OldKey, oldPub) {
		t.Error("the rollover does not name the old key")
	}
	retired, err := s.RetiredSiteKeys(ctx)
	if err != nil || len(retired) != 1 || retired[0].RetiredBy != actor {
		t.Errorf("retired keys %+v %v", retired, err)
	}
	*now = notAfter
	if site, _ := s.Site(ctx); site.Rollover != nil {
		t.Errorf("after the overlap: rollover %+v, want none", site.Rollover)
	}
	if err := s.SetSetting(ctx, actor, store.SettingAcceptV1, "false"); err != nil {
		t.Fatal(err)
	}
	if site, _ := s.Site(ctx); site.AcceptV1 {
		t.Error("version 1 still accepted after turning it off")
	}
	if n := len(eventsOfKind(t, s, "site.key_rolled")); n != 1 {
		t.Errorf("%d rollover events, want 1", n)
	}
}
