package mail

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"reflect"
	"strings"
	"testing"
	"time"
)

// leaf is one non-multipart entity of a parsed message, body decoded.
type leaf struct {
	mediaType string
	header    textproto.MIMEHeader
	body      []byte
}

// parsed is a message read back with net/mail and mime/multipart.
type parsed struct {
	header mail.Header
	shape  string // nesting of media types, e.g. "multipart/alternative(text/plain,text/html)"
	leaves []leaf
}

func (p *parsed) leaf(t *testing.T, mediaType string) leaf {
	t.Helper()
	for _, l := range p.leaves {
		if l.mediaType == mediaType {
			return l
		}
	}
	t.Fatalf("no %s part in %s", mediaType, p.shape)
	return leaf{}
}

func parseMessage(t *testing.T, raw []byte) *parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("net/mail cannot read the message: %v", err)
	}
	p := &parsed{header: msg.Header}
	p.shape = p.walk(t, textproto.MIMEHeader(msg.Header), msg.Body)
	return p
}

func (p *parsed) walk(t *testing.T, h textproto.MIMEHeader, body io.Reader) string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		var kids []string
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", mt, err)
			}
			// NextPart decodes quoted-printable itself.
			kids = append(kids, p.walk(t, part.Header, part))
		}
		return mt + "(" + strings.Join(kids, ",") + ")"
	}
	switch cte := strings.ToLower(h.Get("Content-Transfer-Encoding")); cte {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	case "", "7bit", "8bit":
	default:
		t.Fatalf("unexpected Content-Transfer-Encoding %q", cte)
	}
	data, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("%s body: %v", mt, err)
	}
	p.leaves = append(p.leaves, leaf{mediaType: mt, header: h, body: data})
	return mt
}

func fullMessage() Message {
	return Message{
		From:    "Acme Office <postern@acme.example>",
		To:      []string{"ada@example.com", "Grace <grace@example.com>"},
		Subject: "Your key",
		Text:    "Hello Ada,\n\nHere is your key.\n",
		HTML:    `<p>Hello Ada,</p><p><img src="cid:img1@postern"></p>`,
		Inline:  []Part{{ContentID: "img1@postern", ContentType: "image/png", Data: []byte("\x89PNG\r\n\x1a\nnot really")}},
	}
}

func TestBytesStructure(t *testing.T) {
	full := fullMessage()
	noInline := fullMessage()
	noInline.Inline = nil
	noInline.HTML = "<p>Hello</p>"
	textOnly := fullMessage()
	textOnly.HTML, textOnly.Inline = "", nil
	htmlOnly := fullMessage()
	htmlOnly.Text = ""

	tests := []struct {
		name string
		m    Message
		want string
	}{
		{"text, html and inline", full, "multipart/alternative(text/plain,multipart/related(text/html,image/png))"},
		{"text and html", noInline, "multipart/alternative(text/plain,text/html)"},
		{"text only", textOnly, "text/plain"},
		{"html only", htmlOnly, "multipart/related(text/html,image/png)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := tt.m.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			p := parseMessage(t, raw)
			if p.shape != tt.want {
				t.Errorf("structure: got %s, want %s", p.shape, tt.want)
			}
			for _, l := range p.leaves {
				switch l.mediaType {
				case "text/plain":
					if got, want := string(l.body), strings.ReplaceAll(tt.m.Text, "\n", "\r\n"); got != want {
						t.Errorf("text: got %q, want %q", got, want)
					}
				case "text/html":
					if got := string(l.body); got != tt.m.HTML {
						t.Errorf("html: got %q, want %q", got, tt.m.HTML)
					}
				case "image/png":
					if got, want := l.header.Get("Content-ID"), "<img1@postern>"; got != want {
						t.Errorf("Content-ID: got %q, want %q", got, want)
					}
					if !bytes.Equal(l.body, tt.m.Inline[0].Data) {
						t.Errorf("image: got %q, want %q", l.body, tt.m.Inline[0].Data)
					}
				}
			}
		})
	}
}

func TestBytesHeaders(t *testing.T) {
	m := fullMessage()
	m.From = "Zoë's Café <postern@acme.example>"
	m.Subject = "Clé pour la porte — bureau de Zoë, avec un sujet assez long pour qu'il faille le replier sur plusieurs lignes"
	date := time.Date(2026, 3, 2, 17, 4, 5, 0, time.UTC)
	m.Date = date
	m.MessageID = "abc123@acme.example"
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for _, line := range strings.Split(string(head), "\r\n") {
		if len(line) > 78 {
			t.Errorf("header line of %d characters: %q", len(line), line)
		}
		for _, r := range line {
			if r > 0x7e {
				t.Errorf("header line holds non-ASCII %q: %q", r, line)
				break
			}
		}
	}

	p := parseMessage(t, raw)
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(p.header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, got, want string
	}{
		{"Subject", subject, m.Subject},
		{"MIME-Version", p.header.Get("MIME-Version"), "1.0"},
		{"Message-ID", p.header.Get("Message-ID"), "<abc123@acme.example>"},
		{"Auto-Submitted", p.header.Get("Auto-Submitted"), "auto-generated"},
	}
	from, err := p.header.AddressList("From")
	if err != nil || len(from) != 1 {
		t.Fatalf("From: %v %v", from, err)
	}
	tests = append(tests,
		struct{ name, got, want string }{"From name", from[0].Name, "Zoë's Café"},
		struct{ name, got, want string }{"From address", from[0].Address, "postern@acme.example"})
	to, err := p.header.AddressList("To")
	if err != nil || len(to) != 2 {
		t.Fatalf("To: %v %v", to, err)
	}
	tests = append(tests, struct{ name, got, want string }{"To", to[0].Address + " " + to[1].Address, "ada@example.com grace@example.com"})
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if got, err := p.header.Date(); err != nil || !got.Equal(date) {
		t.Errorf("Date: got %v (%v), want %v", got, err, date)
	}
}

func TestBytesStampsIDAndDate(t *testing.T) {
	m := fullMessage()
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	p := parseMessage(t, raw)
	id := p.header.Get("Message-ID")
	if !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@acme.example>") {
		t.Errorf("Message-ID: got %q, want <…@acme.example>", id)
	}
	if _, err := p.header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
}

func TestBytesRejectsHeaderInjection(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Message)
	}{
		{"From with CRLF", func(m *Message) { m.From = "postern@acme.example\r\nBcc: eve@example.com" }},
		{"From name with LF", func(m *Message) { m.From = "Acme\nBcc: eve@example.com <postern@acme.example>" }},
		{"To with CRLF", func(m *Message) { m.To = []string{"ada@example.com\r\nBcc: eve@example.com"} }},
		{"To with CR", func(m *Message) { m.To = []string{"ada@example.com\rBcc: eve@example.com"} }},
		{"Message-ID with CRLF", func(m *Message) { m.MessageID = "<a@b>\r\nBcc: eve@example.com" }},
		{"Content-ID with CRLF", func(m *Message) { m.Inline[0].ContentID = "img\r\nBcc: eve@example.com" }},
		{"content type with CRLF", func(m *Message) { m.Inline[0].ContentType = "image/png\r\nBcc: eve@example.com" }},
		{"no recipient", func(m *Message) { m.To = nil }},
		{"no body", func(m *Message) { m.Text, m.HTML, m.Inline = "", "", nil }},
		{"inline without HTML", func(m *Message) { m.HTML = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := fullMessage()
			tt.change(&m)
			raw, err := m.Bytes()
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("got %v, want %v", err, ErrInvalidMessage)
			}
			if raw != nil {
				t.Errorf("got %d bytes with the error, want none", len(raw))
			}
		})
	}
}

func TestBytesSubjectLineBreaks(t *testing.T) {
	for _, subject := range []string{
		"Key\r\nBcc: eve@example.com",
		"Key\nBcc: eve@example.com",
		"Key\rBcc: eve@example.com",
		"Clé\r\nBcc: eve@example.com",
	} {
		m := fullMessage()
		m.Subject = subject
		raw, err := m.Bytes()
		if err != nil {
			t.Fatalf("subject %q: %v", subject, err)
		}
		p := parseMessage(t, raw)
		if got := p.header.Get("Bcc"); got != "" {
			t.Errorf("subject %q injected Bcc: %q", subject, got)
		}
		dec := new(mime.WordDecoder)
		got, _ := dec.DecodeHeader(p.header.Get("Subject"))
		if strings.ContainsAny(got, "\r\n") || !strings.Contains(got, "Bcc: eve@example.com") {
			t.Errorf("subject %q: got %q, want it on one line", subject, got)
		}
	}
}

func TestBytesLongLinesSurvive(t *testing.T) {
	token := strings.Repeat("AbC-_=9xyz", 50) // 500 characters with '=' to escape
	m := fullMessage()
	m.Text = "Paste this:\n\n" + token + "\n\nThanks.\n"
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if len(sc.Text()) > 78 {
			t.Fatalf("line of %d characters: %q", len(sc.Text()), sc.Text())
		}
	}
	p := parseMessage(t, raw)
	text := p.leaf(t, "text/plain")
	if !hasLine(string(text.body), token) {
		t.Errorf("decoded text has no line equal to the token:\n%s", text.body)
	}
}

// hasLine reports whether text holds want as a whole line.
func hasLine(text, want string) bool {
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if l == want {
			return true
		}
	}
	return false
}

func TestMessageJSON(t *testing.T) {
	m := fullMessage()
	m.MessageID = "<x@acme.example>"
	m.Date = time.Date(2026, 3, 2, 17, 0, 0, 0, time.UTC)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var got Message
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("round trip: got %+v, want %+v", got, m)
	}
	// An unsent message leaves the ID and date out, to be set when sent.
	b, err = json.Marshal(Message{From: "a@b.c", To: []string{"d@e.f"}, Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); strings.Contains(s, "message_id") || strings.Contains(s, "date") {
		t.Errorf("got %s, want no message_id or date", s)
	}
}

func TestFake(t *testing.T) {
	var f Fake
	ctx := t.Context()
	if err := f.Send(ctx, fullMessage()); err != nil {
		t.Fatal(err)
	}
	bad := fullMessage()
	bad.To = []string{"ada@example.com\r\nBcc: eve@example.com"}
	if err := f.Send(ctx, bad); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("invalid message: got %v, want %v", err, ErrInvalidMessage)
	}
	boom := errors.New("boom")
	f.SetErr(boom)
	if err := f.Send(ctx, fullMessage()); !errors.Is(err, boom) {
		t.Errorf("after SetErr: got %v, want %v", err, boom)
	}
	sent := f.Sent()
	if len(sent) != 1 {
		t.Fatalf("recorded %d messages, want 1", len(sent))
	}
	if sent[0].MessageID == "" || sent[0].Date.IsZero() {
		t.Errorf("recorded message not stamped: %+v", sent[0])
	}
	f.Reset()
	if n := len(f.Sent()); n != 0 {
		t.Errorf("after Reset: got %d messages, want 0", n)
	}
}
