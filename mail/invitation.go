package mail

import (
	"html/template"
	"net/url"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"
)

// InviteData is what an invitation needs: who the key is for, which site
// issues it, and the registration code and link.
type InviteData struct {
	// SiteName and SiteURL say who the mail is from.
	SiteName string
	SiteURL  string
	// FirstName and LastName are the user's.
	FirstName string
	LastName  string
	// To is the user's address; From the site's sending address.
	To   string
	From string
	// Code is the 32-digit registration code.
	Code string
	// Link registers the key when opened on the phone; it carries the
	// site URL and the code. Empty leaves out the link and its QR code.
	Link string
	// Fingerprint is the site key's fingerprint, which the key app shows
	// when it registers: the holder compares the two. Empty leaves it out.
	Fingerprint string
	// ExpiresAt is when the code stops working; zero leaves it unsaid.
	ExpiresAt time.Time
	// Location is the site's time zone, for writing ExpiresAt; nil keeps
	// ExpiresAt's own.
	Location *time.Location
}

// Invitation is the email that hands a user a Smart credential: how to
// register the web key from the link in the phone's browser (no app), or
// a key app with the 32-digit code, when the code expires, and whom to ask when it does not
// work. The text part holds the code both as one unbroken run (to copy)
// and in groups of four (to read); the HTML part adds a QR code of the
// link as an inline PNG, for someone reading the mail on a computer.
func Invitation(d InviteData) Message {
	site := clean(d.SiteName)
	if site == "" {
		site = "your site"
	}
	code := strings.Join(strings.Fields(d.Code), "")
	link := oneLine(d.Link)
	v := inviteView{
		First:       clean(d.FirstName),
		Site:        site,
		SiteURL:     oneLine(d.SiteURL),
		Code:        code,
		Grouped:     groupDigits(code),
		Fingerprint: oneLine(d.Fingerprint),
	}
	if !d.ExpiresAt.IsZero() {
		v.Expires = when(d.ExpiresAt, d.Location)
	}

	m := Message{
		From:    fromWithName(d.From, site),
		To:      []string{fromWithName(d.To, fullName(d.FirstName, d.LastName))},
		Subject: "Your Postern key for " + site,
	}
	m.MessageID = newMessageID(m.From)
	if link != "" {
		v.Link = safeLink(link)
		// A QR code holds about 2,300 characters at this level; a link
		// too long for it still works as a link.
		if png, err := qrcode.Encode(link, qrcode.Medium, 256); err == nil {
			v.QR = randomHex(8) + "@postern"
			m.Inline = []Part{{ContentID: v.QR, ContentType: "image/png", Data: png}}
		}
	}
	m.Text = inviteText(v, link)
	m.HTML = renderHTML(inviteHTML, v, m.Subject, footer(site, v.SiteURL))
	return m
}

// inviteView is what both bodies of an invitation show, already cleaned.
type inviteView struct {
	First, Site, SiteURL string
	Code, Grouped        string
	Fingerprint          string
	Expires              string
	Link                 template.URL
	QR                   string // Content-ID of the QR image, if any
}

func inviteText(v inviteView, link string) string {
	var t plainText
	if v.First != "" {
		t.para("Hello " + v.First + ",")
	} else {
		t.para("Hello,")
	}
	t.para(v.Site + " has set up a key for you: a Smart credential that lets your phone open its doors. No app to install: your phone's own browser holds the key. To start using it:")
	if link != "" {
		t.item("1. ", "   ", "On your phone, open this link in the phone's browser and press Register this phone. Your fingerprint, face or passcode guards the key it makes:")
		t.verbatim(link)
		t.item("2. ", "   ", "When the page says Registered, add it to the home screen: that page is your key.")
		t.item("3. ", "   ", "Using a Postern key app or the postern key command instead? Give it this registration code:")
	} else {
		t.item("1. ", "   ", "Open a Postern key app (or the postern key command) and give it this registration code:")
	}
	t.verbatim(v.Code)
	t.item("   ", "   ", "The same code in groups of four, for reading out or typing:")
	t.verbatim(v.Grouped)
	expiry := ""
	if v.Expires != "" {
		expiry = " It expires on " + v.Expires + "; after that, ask for a new one."
	}
	t.para("The code works once, on one device: after it has registered a phone, it cannot register another." + expiry)
	if v.Fingerprint != "" {
		t.para("When your key registers, it shows the site's key fingerprint. It must be this one; if it is not, stop and tell the administrator:")
		t.verbatim(v.Fingerprint)
	}
	t.para(problemsText(v.Site, link != ""))
	t.para("If you did not expect this email, tell the administrator of " + v.Site + " and do not register the code.")
	t.verbatim("-- ", footer(v.Site, v.SiteURL))
	return t.String()
}

func problemsText(site string, link bool) string {
	s := "If your phone cannot register (it needs a screen lock and an up-to-date browser), ask the administrator of " + site + " for another kind of credential."
	if link {
		s += " Open the link on the phone that will be the key: a key made on a computer stays on that computer."
	}
	return s + " If registering says Registration Error, the code has been used or has expired: ask the administrator for a new one."
}

func footer(site, siteURL string) string {
	if siteURL == "" {
		return "Sent by Postern for " + site + "."
	}
	return "Sent by Postern for " + site + ", " + siteURL
}

// safeLink lets html/template keep a link to the key app even when it
// uses the app's own URL scheme, which the template would otherwise blank
// out as unsafe; schemes that run code in a browser are still refused.
func safeLink(s string) template.URL {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "javascript", "vbscript", "data", "file":
		return ""
	}
	return template.URL(u.String())
}

var inviteHTML = template.Must(template.New("invitation").Parse(`
<p>{{if .First}}Hello {{.First}},{{else}}Hello,{{end}}</p>
<p><strong>{{.Site}}</strong> has set up a key for you: a Smart credential that lets your phone open its doors. No app to install: your phone's own browser holds the key. To start using it:</p>
<ol>
{{- if .Link}}
<li><p>On your phone, open this link in the phone's browser and press <strong>Register this phone</strong>. No app to install: your fingerprint, face or passcode guards the key it makes.</p>
<p><a href="{{.Link}}" style="display:inline-block;padding:.5em 1em;background:#1d4ed8;color:#fff;text-decoration:none;border-radius:4px">Register this phone</a></p>
<p style="font-size:13px;word-break:break-all">{{.Link}}</p>
{{- if .QR}}
<p>Reading this on a computer? Point your phone's camera at this square to open the link on the phone:</p>
<p><img src="cid:{{.QR}}" width="200" height="200" alt="QR code of the registration link"></p>
{{- end}}
</li>
<li><p>When the page says <strong>Registered</strong>, add it to the home screen: that page is your key.</p></li>
<li><p>Using a Postern key app or the postern key command instead? Give it this registration code:</p>
{{- else}}
<li><p>Open a Postern key app (or the postern key command) and give it this registration code:</p>
{{- end}}
<p style="font-family:monospace;font-size:17px;word-break:break-all">{{.Code}}</p>
<p>The same code in groups of four, for reading out or typing:<br>
<span style="font-family:monospace;font-size:17px">{{.Grouped}}</span></p></li>
</ol>
<p>The code works once, on one device: after it has registered a phone, it cannot register another.{{if .Expires}} It expires on <strong>{{.Expires}}</strong>; after that, ask for a new one.{{end}}</p>
{{- if .Fingerprint}}
<p>When your key registers, it shows the site's key fingerprint. It must be this one; if it is not, stop and tell the administrator:<br>
<span style="font-family:monospace;font-size:15px">{{.Fingerprint}}</span></p>
{{- end}}
<p>If your phone cannot register (it needs a screen lock and an up-to-date browser), ask the administrator of {{.Site}} for another kind of credential.{{if .Link}} Open the link on the phone that will be the key: a key made on a computer stays on that computer.{{end}} If registering says Registration Error, the code has been used or has expired: ask the administrator for a new one.</p>
<p>If you did not expect this email, tell the administrator of {{.Site}} and do not register the code.</p>
`))
