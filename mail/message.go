package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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
	writeHeader(&b, "Subject", encodeText(oneLine(m.Subject)))
	writeHeader(&b, "Message-ID", id)
	// Automated mail: ask vacation responders not to answer (RFC 3834).
	writeHeader(&b, "Auto-Submitted", "auto-generated")
	writeHeader(&b, "MIME-Version", "1.0")
	for _, f := range body.header {
		writeHeader(&b, f.name, f.value)
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

// entity is one MIME entity: its own headers and its encoded body.
type entity struct {
	header []field
	body   []byte
}

// field is one header field, kept in order.
type field struct{ name, value string }

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
	return entity{header: []field{
		{"Content-Type", mime.FormatMediaType(mediaType, map[string]string{"charset": "utf-8"})},
		{"Content-Transfer-Encoding", "quoted-printable"},
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
	return entity{header: []field{
		{"Content-Type", mime.FormatMediaType(mt, params)},
		{"Content-Transfer-Encoding", "base64"},
		{"Content-ID", "<" + p.ContentID + ">"},
		{"Content-Disposition", "inline"},
	}, body: base64Lines(p.Data)}, nil
}

// multipartEntity joins parts under a fresh boundary. The boundary starts
// with "=_", which neither quoted-printable nor base64 can produce, so no
// body can end a part early. The parts are written here rather than with
// mime/multipart so that their headers fold like the message's own.
func multipartEntity(subtype string, params map[string]string, parts []entity) entity {
	boundary := "=_postern_" + randomHex(12)
	var b bytes.Buffer
	for _, p := range parts {
		b.WriteString("--" + boundary + "\r\n")
		for _, f := range p.header {
			writeHeader(&b, f.name, f.value)
		}
		b.WriteString("\r\n")
		b.Write(p.body)
		// The CRLF before a delimiter belongs to the delimiter, not
		// to the body: without this one the body's own last line
		// break would be lost.
		b.WriteString("\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	ps := map[string]string{"boundary": boundary}
	for k, v := range params {
		ps[k] = v
	}
	return entity{header: []field{{"Content-Type", mime.FormatMediaType("multipart/"+subtype, ps)}}, body: b.Bytes()}
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

// encodeText returns s ready for an unstructured header such as Subject:
// as it is when it is plain ASCII, else as RFC 2047 encoded-words short
// enough that every folded line stays within 78 characters. (mime's own
// encoder makes words of up to 75 characters, which with "Subject: "
// overflow the line.) A space between two encoded-words is dropped by
// decoders, so the words' own spaces are encoded inside them.
func encodeText(s string) string {
	plain := !strings.Contains(s, "=?")
	for i := 0; i < len(s) && plain; i++ {
		plain = s[i] >= ' ' && s[i] <= '~'
	}
	if plain {
		return s
	}
	const open, closing, maxWord = "=?utf-8?q?", "?=", 66
	var words []string
	word := open
	for _, r := range s {
		var enc strings.Builder
		var buf [utf8.UTFMax]byte
		for _, c := range buf[:utf8.EncodeRune(buf[:], r)] {
			switch {
			case c == ' ':
				enc.WriteByte('_')
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
				c == '!', c == '*', c == '+', c == '-', c == '/':
				enc.WriteByte(c)
			default:
				fmt.Fprintf(&enc, "=%02X", c)
			}
		}
		if len(word)+enc.Len()+len(closing) > maxWord {
			words = append(words, word+closing)
			word = open
		}
		word += enc.String()
	}
	return strings.Join(append(words, word+closing), " ")
}

// writeHeader writes "name: value" folded at spaces to stay near 78
// characters a line. Values reaching here never hold CR or LF.
func writeHeader(b *bytes.Buffer, name, value string) {
	line := name + ":"
	for i, word := range strings.Split(value, " ") {
		if i > 0 && len(line)+1+len(word) > 78 {
			b.WriteString(line)
			b.WriteString("\r\n")
			line = ""
		}
		line += " " + word
	}
	b.WriteString(line)
	b.WriteString("\r\n")
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
