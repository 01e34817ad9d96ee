package mail

import (
	"strings"
	"testing"
	"time"
)

func shareData() ShareData {
	return ShareData{
		To:                "admin@other.example",
		From:              "postern@acme.example",
		HolderFirst:       "Ada",
		HolderLast:        "Lovelace",
		IssuerSiteName:    "Acme Office",
		IssuerSiteURL:     "https://acme.example",
		IssuerFingerprint: "SHA256:q5nO0Y6kQ2hY3fZKq0lH8f4m1n7G2tXb9s0uVwYzA1c",
		// Long, with '=' (quoted-printable's escape) and the characters of
		// base64url: the kind of token soft line breaks would cut.
		Token:     "v1." + strings.Repeat("eyJzaXRlIjoiYWNtZSJ9-_", 20) + "MEUCIQ==",
		ExpiresAt: time.Date(2026, 3, 9, 16, 0, 0, 0, time.UTC),
	}
}

func TestCredentialShareAsReceived(t *testing.T) {
	d := shareData()
	p := sendAndParse(t, CredentialShare(d))
	if want := "multipart/alternative(text/plain,text/html)"; p.shape != want {
		t.Fatalf("structure: got %s, want %s", p.shape, want)
	}
	to, err := p.header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != d.To {
		t.Errorf("To: got %v (%v), want %s", to, err, d.To)
	}
	text := string(p.leaf(t, "text/plain").body)
	if !hasLine(text, d.Token) {
		t.Errorf("decoded text has no line equal to the token:\n%s", text)
	}
	for _, s := range []string{
		"Ada Lovelace",
		"Acme Office",
		"https://acme.example",
		d.IssuerFingerprint,
		"In Postern, open the user, choose Add a credential, paste this token",
		"Monday 9 March 2026 at 16:00 UTC",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("text lacks %q", s)
		}
	}
	html := string(p.leaf(t, "text/html").body)
	for _, s := range []string{d.Token, "Ada Lovelace", "Add a credential"} {
		if !strings.Contains(html, s) {
			t.Errorf("HTML lacks %q", s)
		}
	}
}

func TestCredentialShareHostileHolder(t *testing.T) {
	// The holder's name comes from the key app: anyone can type anything.
	d := shareData()
	d.HolderFirst = "Ada\r\nBcc: eve@example.com"
	d.HolderLast = "<b>Lovelace</b>"
	m := CredentialShare(d)
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	p := parseMessage(t, raw)
	if got := p.header.Get("Bcc"); got != "" {
		t.Errorf("holder name injected Bcc: %q", got)
	}
	if strings.Contains(m.HTML, "<b>Lovelace</b>") {
		t.Errorf("HTML holds the name's markup unescaped")
	}
	if !strings.Contains(m.Text, "Ada Bcc: eve@example.com <b>Lovelace</b> asks") {
		t.Errorf("text does not show the name on one line:\n%s", m.Text)
	}
}

func TestTestEmail(t *testing.T) {
	p := sendAndParse(t, Test("ops@acme.example", "postern@acme.example", "Acme Office"))
	if got, want := p.header.Get("Subject"), "Postern test email from Acme Office"; got != want {
		t.Errorf("Subject: got %q, want %q", got, want)
	}
	text := string(p.leaf(t, "text/plain").body)
	if !strings.Contains(text, "Acme Office") || !strings.Contains(text, "settings work") {
		t.Errorf("text does not say what it proves:\n%s", text)
	}
}
