package mail

import (
	"bytes"
	"html/template"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// textWidth is where paragraphs of plain-text bodies wrap.
const textWidth = 72

// plainText builds a plain-text body from paragraphs, which wrap, and
// verbatim lines (codes, links, tokens), which never do: a line break in
// the middle of a token is one a reader would copy.
type plainText struct {
	b strings.Builder
}

// para adds a wrapped paragraph followed by a blank line.
func (t *plainText) para(s string) { t.item("", "", s) }

// item adds a wrapped paragraph whose first line starts with first and
// whose other lines start with rest, for numbered steps.
func (t *plainText) item(first, rest, s string) {
	line := first
	empty := true
	for _, w := range strings.Fields(s) {
		if !empty && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) > textWidth {
			t.b.WriteString(line + "\n")
			line, empty = rest, true
		}
		if !empty {
			line += " "
		}
		line += w
		empty = false
	}
	t.b.WriteString(line + "\n\n")
}

// verbatim adds each line as it is, then a blank line.
func (t *plainText) verbatim(lines ...string) {
	for _, l := range lines {
		t.b.WriteString(l + "\n")
	}
	t.b.WriteString("\n")
}

func (t *plainText) String() string { return strings.TrimRight(t.b.String(), "\n") + "\n" }

// clean makes text from outside (names typed by users, site names) safe
// for one line: control characters and runs of spaces become one space,
// and it is cut at 100 characters so it cannot swamp the message.
func clean(s string) string {
	s = strings.Join(strings.Fields(oneLine(s)), " ")
	if utf8.RuneCountInString(s) > 100 {
		s = string([]rune(s)[:100]) + "…"
	}
	return s
}

// fullName joins first and last name, either of which may be empty.
func fullName(first, last string) string {
	return strings.TrimSpace(clean(first) + " " + clean(last))
}

// fromWithName gives a bare From address a display name, so the inbox
// shows who the mail is from. An address that already has one, or that
// does not parse (Bytes will report it), is left alone.
func fromWithName(from, name string) string {
	if hasControl(from) {
		return from
	}
	a, err := mail.ParseAddress(from)
	if err != nil || a.Name != "" || name == "" {
		return from
	}
	a.Name = name
	return a.String()
}

// when formats an instant for people in loc: "Monday 2 March 2026 at
// 17:00 CET". A nil loc keeps t's own location.
func when(t time.Time, loc *time.Location) string {
	if loc != nil {
		t = t.In(loc)
	}
	return t.Format("Monday 2 January 2006 at 15:04 MST")
}

// groupDigits splits s into groups of four separated by spaces, for
// reading a long code aloud or typing it from paper.
func groupDigits(s string) string {
	var groups []string
	for len(s) > 4 {
		groups = append(groups, s[:4])
		s = s[4:]
	}
	return strings.Join(append(groups, s), " ")
}

// htmlLayout wraps every HTML body: plain markup and inline styles, since
// mail clients drop style sheets and scripts.
var htmlLayout = template.Must(template.New("layout").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family:sans-serif;font-size:15px;line-height:1.5;color:#222;max-width:40em;margin:0 auto;padding:1em">
{{.Body}}
<p style="color:#666;font-size:13px">{{.Footer}}</p>
</body></html>
`))

// renderHTML runs tmpl with data inside htmlLayout. The templates are
// fixed and tested, so a failure here is a programming error.
func renderHTML(tmpl *template.Template, data any, title, footer string) string {
	var body bytes.Buffer
	if err := tmpl.Execute(&body, data); err != nil {
		panic("mail: " + tmpl.Name() + ": " + err.Error())
	}
	var page bytes.Buffer
	err := htmlLayout.Execute(&page, struct {
		Title, Footer string
		Body          template.HTML
	}{title, footer, template.HTML(body.String())})
	if err != nil {
		panic("mail: layout: " + err.Error())
	}
	return page.String()
}
