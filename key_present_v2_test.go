package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"postern/access"
	"postern/access/protocol"
	"postern/access/softkey"
)

// TestTicketShownOnce: the key offers the ticket of the site it used last
// and takes it out of its state before the hello leaves, so no reader,
// whichever site it belongs to, sees the same ticket twice.
func TestTicketShownOnce(t *testing.T) {
	state, err := softkey.NewStateV2("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var ids []string
	for i, name := range []string{"Home", "Other"} {
		siteKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		pub, _ := protocol.MarshalPublicKey(&siteKey.PublicKey)
		keys, _ := softkey.NewKeys()
		id := hex.EncodeToString([]byte{byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
		ids = append(ids, id)
		site := softkey.SiteV2{ID: id, Name: name, PublicKey: pub, CredentialID: access.NewCredentialID().String(), Home: i == 0, LastUsed: now.Add(time.Duration(i) * time.Minute)}
		if err := state.AddSite(site, keys); err != nil {
			t.Fatal(err)
		}
		state.SetTicket(id, softkey.Ticket{ID: []byte{byte(i), 15: 1}, Secret: make([]byte, 32), Expires: now.Add(time.Hour)})
	}
	never := func() error { t.Error("asked to unlock"); return nil }
	cred, _, err := keyCredentialV2(state, now, never)
	if err != nil {
		t.Fatal(err)
	}
	if cred.Ticket == nil || cred.Ticket.ID[0] != 1 || hex.EncodeToString(cred.TicketSite[:]) != ids[1] {
		t.Fatalf("offered %+v for %x, want the ticket of the site used last", cred.Ticket, cred.TicketSite)
	}
	if _, ok := state.Ticket(ids[1], now); ok {
		t.Error("the offered ticket is still in the state")
	}
	cred, _, _ = keyCredentialV2(state, now, never)
	if cred.Ticket == nil || cred.Ticket.ID[0] != 0 {
		t.Fatalf("next presentation offered %+v, want the other site's ticket", cred.Ticket)
	}
	if cred, _, _ = keyCredentialV2(state, now, never); cred.Ticket != nil {
		t.Errorf("offered %+v with no ticket left", cred.Ticket)
	}
	if len(cred.Sites) != 2 {
		t.Errorf("pinned %d sites, want 2", len(cred.Sites))
	}
}
