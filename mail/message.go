package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"time"
	"unicode"
)

// ErrInvalidMessage is wrapped by every error that comes from the message
// itself (a bad address, a line break in a header, nothing to send) rather
// than from the mail server. Sending it again cannot succeed, so IsPermanent
// reports true for it.
var ErrInvalidMessage = errors.New("invalid message")

// Part is an inline attachment of the HTML body, such as an image the HTML
// shows with <img src="cid:ContentID">.
type Part struct {
	// ContentID names the part without angle brackets; the HTML refers to
	// it as "cid:" + ContentID.
	ContentID string `json:"content_id"`
	// ContentType is a media type such as "image/png".
	ContentType string `json:"content_type"`
	// Data is the raw content; JSON carries it as base64.
	Data []byte `json:"data"`
}

// Message is one email as the product composes it. It is plain data so the
// outbox can store it as JSON and send it later, possibly after a restart.
//
// MessageID and Date are filled in when the message is sent (or built by
// Bytes) if they are empty. The constructors in this package set MessageID
// up front so that every retry of a queued message carries the same
// Message-ID and a receiving server can drop a duplicate.
type Message struct {
	// MessageID is the Message-ID header, with or without angle brackets.
	MessageID string `json:"message_id,omitempty"`
	// Date is the Date header.
	Date time.Time `json:"date,omitzero"`
	// From is one address, optionally with a display name:
	// "Acme Office <postern@acme.example>".
	From string `json:"from"`
	// To holds one or more addresses in the same form as From.
	To []string `json:"to"`
	// Subject may hold any Unicode text; line breaks become spaces.
	Subject string `json:"subject"`
	// Text is the plain-text body.
	Text string `json:"text,omitempty"`
	// HTML is the HTML body; may be empty.
	HTML string `json:"html,omitempty"`
	// Inline holds parts the HTML refers to by Content-ID.
	Inline []Part `json:"inline,omitempty"`
}

// Bytes renders m as an RFC 5322 message with MIME bodies, ready for the
// DATA command: headers encoded per RFC 2047, a text part and an HTML part
// in multipart/alternative, the HTML and its inline parts in
// multipart/related, CRLF line endings throughout. A missing Message-ID or
// Date is generated. Any field that could smuggle a header (a CR or LF in an
// address, ID or content type) makes it fail with ErrInvalidMessage; line
// breaks in the subject are replaced by spaces because the subject is often
// built from names that users typed.
func (m Message) Bytes() ([]byte, error) {
	m = m.stamped(time.Now())
	from, err := parseAddress("From", m.From)
	if err != nil {
		return nil, err
	}
	if len(m.To) == 0 {
		return nil, fmt.Errorf("%w: no recipient", ErrInvalidMessage)
	}
	to := make([]string, 0, len(m.To))
	for _, s := range m.To {
		a, err := parseAddress("To", s)
		if err != nil {
			return nil, err
		}
		to = append(to, a.String())
	}
	id, err := messageIDHeader(m.MessageID)
	if err != nil {
		return nil, err
	}
	body, err := m.body()
	if err != nil {
		return nil, err
	}

	var b bytes.Buffer
	writeHeader(&b, "Date", m.Date.Format(time.RFC1123Z))
	writeHeader(&b, "From", from.String())
	writeHeader(&b, "To", strings.Join(to, ", "))
	writeHeader(&b, "Subject", mime.QEncoding.Encode("utf-8", oneLine(m.Subject)))
	writeHeader(&b, "Message-ID", id)
	// Automated mail: ask vacation responders not to answer (RFC 3834).
	writeHeader(&b, "Auto-Submitted", "auto-generated")
	writeHeader(&b, "MIME-Version", "1.0")
	for _, name := range slices.Sorted(maps.Keys(body.header)) {
		for _, v := range body.header[name] {
			writeHeader(&b, name, v)
		}
	}
	b.WriteString("\r\n")
	b.Write(body.body)
	return b.Bytes(), nil
}

// stamped returns m with a Message-ID and a Date when they are empty.
func (m Message) stamped(now time.Time) Message {
	if m.MessageID == "" {
		m.MessageID = newMessageID(m.From)
	}
	if m.Date.IsZero() {
		m.Date = now
	}
	return m
}

// envelope returns the bare addresses for MAIL FROM and RCPT TO.
func (m Message) envelope() (from string, to []string, err error) {
	f, err := parseAddress("From", m.From)
	if err != nil {
		return "", nil, err
	}
	for _, s := range m.To {
		a, err := parseAddress("To", s)
		if err != nil {
			return "", nil, err
		}
		to = append(to, a.Address)
	}
	if len(to) == 0 {
		return "", nil, fmt.Errorf("%w: no recipient", ErrInvalidMessage)
	}
	return f.Address, to, nil
}

// entity is one MIME entity: its own header and its encoded body.
type entity struct {
	header textproto.MIMEHeader
	body   []byte
}

func (m Message) body() (entity, error) {
	if m.Text == "" && m.HTML == "" {
		return entity{}, fmt.Errorf("%w: no body", ErrInvalidMessage)
	}
	if len(m.Inline) > 0 && m.HTML == "" {
		return entity{}, fmt.Errorf("%w: inline parts without an HTML body", ErrInvalidMessage)
	}
	var html entity
	if m.HTML != "" {
		html = textEntity("text/html", m.HTML)
		if len(m.Inline) > 0 {
			parts := []entity{html}
			for _, p := range m.Inline {
				e, err := inlineEntity(p)
				if err != nil {
					return entity{}, err
				}
				parts = append(parts, e)
			}
			// type= names the root part, as RFC 2387 asks.
			html = multipartEntity("related", map[string]string{"type": "text/html"}, parts)
		}
	}
	switch {
	case m.HTML == "":
		return textEntity("text/plain", m.Text), nil
	case m.Text == "":
		return html, nil
	default:
		return multipartEntity("alternative", nil, []entity{textEntity("text/plain", m.Text), html}), nil
	}
}

// textEntity encodes s as quoted-printable UTF-8. Quoted-printable keeps
// ASCII text readable in the raw message, keeps every line within the
// 76-character limit with soft breaks, and decodes back to exactly s (with
// CRLF line endings), so long tokens and links survive intact.
func textEntity(mediaType, s string) entity {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(s)) // writes to a bytes.Buffer cannot fail
	w.Close()
	return entity{header: textproto.MIMEHeader{
		"Content-Type":              {mime.FormatMediaType(mediaType, map[string]string{"charset": "utf-8"})},
		"Content-Transfer-Encoding": {"quoted-printable"},
	}, body: b.Bytes()}
}

func inlineEntity(p Part) (entity, error) {
	if !validID(p.ContentID) {
		return entity{}, fmt.Errorf("%w: inline part Content-ID %q", ErrInvalidMessage, p.ContentID)
	}
	mt, params, err := mime.ParseMediaType(p.ContentType)
	if err != nil || hasControl(p.ContentType) {
		return entity{}, fmt.Errorf("%w: inline part content type %q", ErrInvalidMessage, p.ContentType)
	}
	// The header is written as the map spells it, so Content-ID keeps
	// its usual spelling rather than textproto's "Content-Id".
	return entity{header: textproto.MIMEHeader{
		"Content-Type":              {mime.FormatMediaType(mt, params)},
		"Content-Transfer-Encoding": {"base64"},
		"Content-ID":                {"<" + p.ContentID + ">"},
		"Content-Disposition":       {"inline"},
	}, body: base64Lines(p.Data)}, nil
}

// multipartEntity joins parts under a multipart/subtype entity.
// mime/multipart draws the boundary (30 random bytes, which no body can
// hold by chance) and writes the delimiters; it writes part headers as
// they are given, so they are folded here like the message's own.
func multipartEntity(subtype string, params map[string]string, parts []entity) entity {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		h := make(textproto.MIMEHeader, len(p.header))
		for name, values := range p.header {
			for _, v := range values {
				h[name] = append(h[name], strings.TrimPrefix(folded(name, v), " "))
			}
		}
		// Writes to a bytes.Buffer cannot fail.
		pw, _ := w.CreatePart(h)
		pw.Write(p.body)
	}
	w.Close()
	ps := map[string]string{"boundary": w.Boundary()}
	maps.Copy(ps, params)
	return entity{header: textproto.MIMEHeader{"Content-Type": {mime.FormatMediaType("multipart/"+subtype, ps)}}, body: b.Bytes()}
}

// base64Lines encodes data as base64 in lines of 76 characters.
func base64Lines(data []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(data)
	var b bytes.Buffer
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc)
	b.WriteString("\r\n")
	return b.Bytes()
}

// maxLine is the length RFC 5322 asks header lines to stay within.
const maxLine = 78

// writeHeader writes one header field, folded.
func writeHeader(b *bytes.Buffer, name, value string) {
	b.WriteString(name + ":" + folded(name, value) + "\r\n")
}

// folded returns value as it follows "name:" on the wire: after a space,
// with line breaks at spaces so that lines stay within maxLine where the
// words allow. A word too long to share the first line with the name
// starts the second (an RFC 2047 encoded-word from mime is up to 75
// characters). Values reaching here never hold CR or LF.
func folded(name, value string) string {
	var b strings.Builder
	n := len(name) + 1 // the length of the line so far
	for _, word := range strings.Split(value, " ") {
		if word != "" && n > 1 && n+1+len(word) > maxLine {
			b.WriteString("\r\n")
			n = 0
		}
		b.WriteString(" " + word)
		n += 1 + len(word)
	}
	return b.String()
}

func parseAddress(field, s string) (*mail.Address, error) {
	if hasControl(s) {
		return nil, fmt.Errorf("%w: %s address %q holds a control character", ErrInvalidMessage, field, s)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s address %q: %v", ErrInvalidMessage, field, s, err)
	}
	return a, nil
}

// messageIDHeader validates id and returns it in angle brackets.
func messageIDHeader(id string) (string, error) {
	inner := strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	if !validID(inner) || !strings.Contains(inner, "@") {
		return "", fmt.Errorf("%w: Message-ID %q", ErrInvalidMessage, id)
	}
	return "<" + inner + ">", nil
}

// validID reports whether s can stand between the angle brackets of a
// Message-ID or Content-ID: printable ASCII, no spaces, no brackets.
func validID(s string) bool {
	if s == "" || len(s) > 250 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || r == '<' || r == '>' || r == '"' || r == '\\' {
			return false
		}
	}
	return true
}

func newMessageID(from string) string {
	domain := "postern.invalid"
	if a, err := mail.ParseAddress(from); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 && validID(a.Address[i+1:]) {
			domain = a.Address[i+1:]
		}
	}
	return "<" + randomHex(16) + "@" + domain + ">"
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// oneLine replaces control characters (CR and LF among them) with spaces
// and trims the result.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}
