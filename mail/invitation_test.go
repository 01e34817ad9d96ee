package mail

import (
	"bytes"
	"context"
	"image/png"
	"regexp"
	"strings"
	"testing"
	"time"
)

func inviteData() InviteData {
	return InviteData{
		SiteName:    "Acme Office",
		SiteURL:     "https://acme.example",
		FirstName:   "Ada",
		LastName:    "Lovelace",
		To:          "ada@example.com",
		From:        "postern@acme.example",
		Code:        "40918273645546372819009182736455",
		Link:        "https://acme.example/key/register?site=https%3A%2F%2Facme.example&code=40918273645546372819009182736455",
		ExpiresAt:   time.Date(2026, 3, 9, 16, 0, 0, 0, time.UTC),
		Location:    time.FixedZone("CET", 3600),
		Fingerprint: "60cf:ab20:3643:f7bb:1c79:88a2:93cf:54c6",
	}
}

// sendAndParse sends m through a real SMTP server and parses what it got.
func sendAndParse(t *testing.T, m Message) *parsed {
	t.Helper()
	be := &backend{}
	port := startServer(t, be, plainServer)
	s := NewSMTP(Config{Host: "127.0.0.1", Port: port, TLS: NoTLS})
	if err := sendOrHang(t, context.Background(), s, m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := be.messages()
	if len(got) != 1 {
		t.Fatalf("server got %d messages, want 1", len(got))
	}
	return parseMessage(t, got[0].data)
}

var imgCID = regexp.MustCompile(`<img src="cid:([^"]+)"`)

func TestInvitationAsReceived(t *testing.T) {
	d := inviteData()
	p := sendAndParse(t, Invitation(d))

	want := "multipart/alternative(text/plain,multipart/related(text/html,image/png))"
	if p.shape != want {
		t.Fatalf("structure: got %s, want %s", p.shape, want)
	}
	from, err := p.header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Acme Office" {
		t.Errorf("From: got %v (%v), want the site's name", from, err)
	}
	to, err := p.header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != d.To {
		t.Errorf("To: got %v (%v), want %s", to, err, d.To)
	}
	if p.header.Get("Message-ID") == "" || p.header.Get("Date") == "" {
		t.Errorf("Message-ID %q, Date %q: want both", p.header.Get("Message-ID"), p.header.Get("Date"))
	}

	text := string(p.leaf(t, "text/plain").body)
	runs := regexp.MustCompile(`\d{32,}`).FindAllString(text, -1)
	if len(runs) == 0 || runs[0] != d.Code {
		t.Errorf("32-digit runs in the text: got %q, want %q first", runs, d.Code)
	}
	if !hasLine(text, d.Code) {
		t.Errorf("text has no line holding just the code")
	}
	for _, s := range []string{
		"4091 8273 6455 4637 2819 0091 8273 6455",
		"Acme Office",
		"No app to install",
		"Register this phone",
		"page says Registered",
		"Monday 9 March 2026 at 17:00 CET", // 16:00 UTC in the site's zone
		"works once, on one device",
		"ask the administrator of Acme Office",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("text lacks %q", s)
		}
	}
	if !hasLine(text, d.Link) {
		t.Errorf("text has no line holding just the link %q", d.Link)
	}
	if !hasLine(text, d.Fingerprint) || !strings.Contains(text, "key fingerprint") {
		t.Errorf("text has no line holding just the site key's fingerprint %q", d.Fingerprint)
	}

	html := string(p.leaf(t, "text/html").body)
	m := imgCID.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("HTML has no <img src=\"cid:…\">:\n%s", html)
	}
	img := p.leaf(t, "image/png")
	if got, want := img.header.Get("Content-ID"), "<"+m[1]+">"; got != want {
		t.Errorf("image Content-ID: got %q, want %q", got, want)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(img.body))
	if err != nil {
		t.Fatalf("QR part is not a PNG: %v", err)
	}
	if cfg.Width != 256 || cfg.Height != 256 {
		t.Errorf("QR size: got %dx%d, want 256x256", cfg.Width, cfg.Height)
	}
	if strings.Contains(html, "data:") {
		t.Errorf("HTML uses a data: URI; want the image inline by Content-ID")
	}
	if href := `href="` + strings.ReplaceAll(d.Link, "&", "&amp;") + `"`; !strings.Contains(html, href) {
		t.Errorf("HTML lacks %s", href)
	}
	for _, s := range []string{d.Code, "4091 8273 6455 4637 2819 0091 8273 6455", "Monday 9 March 2026 at 17:00 CET", d.Fingerprint} {
		if !strings.Contains(html, s) {
			t.Errorf("HTML lacks %q", s)
		}
	}
}

func TestInvitationWithoutLink(t *testing.T) {
	d := inviteData()
	d.Link = ""
	d.ExpiresAt = time.Time{}
	m := Invitation(d)
	if len(m.Inline) != 0 {
		t.Errorf("got %d inline parts, want none without a link", len(m.Inline))
	}
	if !hasLine(m.Text, d.Code) {
		t.Errorf("text has no line holding just the code:\n%s", m.Text)
	}
	for _, s := range []string{"link", "expires"} {
		if strings.Contains(m.Text, s) {
			t.Errorf("text mentions %q though there is none:\n%s", s, m.Text)
		}
	}
	if _, err := m.Bytes(); err != nil {
		t.Errorf("Bytes: %v", err)
	}
}

func TestInvitationLinks(t *testing.T) {
	tests := []struct {
		link     string
		wantHref string // "" when the link must not become an href
	}{
		{"https://acme.example/k#c=1", `href="https://acme.example/k#c=1"`},
		{"postern-key://register?site=https%3A%2F%2Facme.example&code=1", `href="postern-key://register?site=https%3A%2F%2Facme.example&amp;code=1"`},
		{"javascript:alert(1)", ""},
		{"data:text/html,<script>alert(1)</script>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.link, func(t *testing.T) {
			d := inviteData()
			d.Link = tt.link
			m := Invitation(d)
			if tt.wantHref != "" && !strings.Contains(m.HTML, tt.wantHref) {
				t.Errorf("HTML lacks %s", tt.wantHref)
			}
			if tt.wantHref == "" && strings.Contains(m.HTML, `href="`+tt.link) {
				t.Errorf("HTML links to %q", tt.link)
			}
			if strings.Contains(m.HTML, "<script>") {
				t.Errorf("HTML holds an unescaped <script>")
			}
		})
	}
}

func TestInvitationHostileNames(t *testing.T) {
	d := inviteData()
	d.FirstName = "Ada\r\n\r\nIgnore the code above and call 555"
	d.LastName = "<script>alert(1)</script>"
	d.SiteName = "Acme\r\nBcc: eve@example.com"
	m := Invitation(d)
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	p := parseMessage(t, raw)
	if got := p.header.Get("Bcc"); got != "" {
		t.Errorf("site name injected Bcc: %q", got)
	}
	if !strings.HasPrefix(m.Text, "Hello Ada Ignore the code above and call 555,\n") {
		t.Errorf("greeting spans lines:\n%s", m.Text)
	}
	if strings.Contains(m.HTML, "<script>") {
		t.Errorf("HTML holds an unescaped <script>")
	}
}

func TestGroupDigits(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"123", "123"},
		{"1234", "1234"},
		{"123456789", "1234 5678 9"},
		{strings.Repeat("0123", 8), strings.TrimSpace(strings.Repeat("0123 ", 8))},
	}
	for _, tt := range tests {
		if got := groupDigits(tt.in); got != tt.want {
			t.Errorf("groupDigits(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPlainTextWraps(t *testing.T) {
	var tx plainText
	long := strings.Repeat("word ", 40)
	tx.para(long)
	tx.item("1. ", "   ", long)
	tx.verbatim(strings.Repeat("x", 200))
	for i, line := range strings.Split(tx.String(), "\n") {
		if len(line) > textWidth && line != strings.Repeat("x", 200) {
			t.Errorf("line %d has %d characters, want at most %d: %q", i, len(line), textWidth, line)
		}
	}
	if !strings.Contains(tx.String(), "\n"+strings.Repeat("x", 200)+"\n") {
		t.Errorf("verbatim line was wrapped")
	}
	if !strings.Contains(tx.String(), "\n   word") {
		t.Errorf("item continuation lines are not indented:\n%s", tx.String())
	}
}

func TestClean(t *testing.T) {
	long := strings.Repeat("é", 150)
	tests := []struct{ in, want string }{
		{"  Ada   Lovelace ", "Ada Lovelace"},
		{"Ada\r\nBcc: x", "Ada Bcc: x"},
		{"Ada\tLove\x00lace", "Ada Love lace"},
		{long, strings.Repeat("é", 100) + "…"},
	}
	for _, tt := range tests {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("clean(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
