package mail

import (
	"html/template"
	"strings"
	"time"
)

// ShareData is what a credential-share email needs: the admin it goes to,
// the holder who asked, the site that issued the credential, and the
// signed token that site made.
type ShareData struct {
	// To is the receiving site's administrator; From the issuing site's
	// sending address.
	To   string
	From string
	// HolderFirst and HolderLast are the name the holder typed in the key
	// app. Nothing vouches for them, and the mail says so.
	HolderFirst string
	HolderLast  string
	// HolderEmail is set for a web key's token: a web key cannot be
	// carried to another site, so the receiving site invites the holder
	// at this address to register one of its own.
	HolderEmail string
	// IssuerSiteName, IssuerSiteURL and IssuerFingerprint identify the
	// site that issued the credential and its signing key.
	IssuerSiteName    string
	IssuerSiteURL     string
	IssuerFingerprint string
	// Token is pasted into "Add a credential" at the receiving site.
	Token string
	// ExpiresAt is when the token stops being accepted; zero leaves it
	// unsaid.
	ExpiresAt time.Time
}

// CredentialShare is the email behind "Add credential to new site": it
// tells another site's administrator who is asking, which site issued the
// credential, and how to add it. In the text part the token stands alone
// on its own line, never wrapped, so it can be copied whole.
func CredentialShare(d ShareData) Message {
	v := shareView{
		Holder:      fullName(d.HolderFirst, d.HolderLast),
		Issuer:      clean(d.IssuerSiteName),
		IssuerURL:   oneLine(d.IssuerSiteURL),
		Fingerprint: oneLine(d.IssuerFingerprint),
		Token:       strings.Join(strings.Fields(d.Token), ""),
		HolderEmail: oneLine(d.HolderEmail),
	}
	if v.Holder == "" {
		v.Holder = "Someone"
	}
	if v.Issuer == "" {
		v.Issuer = "another Postern site"
	}
	if !d.ExpiresAt.IsZero() {
		v.Expires = when(d.ExpiresAt, nil)
	}
	m := Message{
		From:    fromWithName(d.From, v.Issuer),
		To:      []string{d.To},
		Subject: "Add a credential: " + v.Holder + " (key issued by " + v.Issuer + ")",
	}
	m.MessageID = newMessageID(m.From)
	m.Text = shareText(v)
	m.HTML = renderHTML(shareHTML, v, m.Subject, "Sent by Postern for "+v.Issuer+" at the request of the key holder.")
	return m
}

// shareView is what both bodies of a share email show, already cleaned.
type shareView struct {
	Holder, Issuer, IssuerURL, Fingerprint string
	Token, Expires                         string
	HolderEmail                            string // a web key's token
}

func shareText(v shareView) string {
	var t plainText
	t.para("Hello,")
	if v.HolderEmail != "" {
		t.para(v.Holder + " asks to be added to your Postern site. Their phone key was issued by " + v.Issuer + ", and the request was sent from the key page on that phone, confirmed with the phone's fingerprint, face or passcode.")
		t.para("In Postern, open the user, choose Add a credential, paste this token:")
		t.verbatim(v.Token)
		t.para("A key on a phone's browser belongs to the site that issued it, so adding the token makes a new Smart credential at your site and emails " + v.Holder + " an invitation at " + v.HolderEmail + " to register a phone key at your site. If " + v.Holder + " has no user at your site yet, create one first. The user's permissions decide which doors the key opens.")
	} else {
		t.para(v.Holder + " asks to be added to your Postern site with the key they already carry on their phone. The key was issued by " + v.Issuer + ", and the request was sent from the Postern Key app on that phone.")
		t.para("In Postern, open the user, choose Add a credential, paste this token:")
		t.verbatim(v.Token)
		t.para("If " + v.Holder + " has no user at your site yet, create one first. Adding the token gives no access by itself: the user's permissions decide which doors the phone opens.")
	}
	lines := []string{"Issued by: " + v.Issuer}
	if v.IssuerURL != "" {
		lines = append(lines, "Issuer's address: "+v.IssuerURL)
	}
	if v.Fingerprint != "" {
		lines = append(lines, "Issuer's key fingerprint: "+v.Fingerprint)
	}
	t.verbatim(lines...)
	if v.Expires != "" {
		t.para("The token can be added until " + v.Expires + ". After that, " + v.Holder + " can send a new one from the app.")
	}
	t.para("The name was typed by the person asking; check it with them before you add the token. If you do not know them or did not expect this email, ignore it: nothing changes at your site until someone adds the token.")
	t.verbatim("-- ", "Sent by Postern for "+v.Issuer+" at the request of the key holder.")
	return t.String()
}

var shareHTML = template.Must(template.New("share").Parse(`
<p>Hello,</p>
{{- if .HolderEmail}}
<p><strong>{{.Holder}}</strong> asks to be added to your Postern site. Their phone key was issued by <strong>{{.Issuer}}</strong>, and the request was sent from the key page on that phone, confirmed with the phone's fingerprint, face or passcode.</p>
{{- else}}
<p><strong>{{.Holder}}</strong> asks to be added to your Postern site with the key they already carry on their phone. The key was issued by <strong>{{.Issuer}}</strong>, and the request was sent from the Postern Key app on that phone.</p>
{{- end}}
<p>In Postern, open the user, choose <strong>Add a credential</strong>, paste this token:</p>
<pre style="white-space:pre-wrap;word-break:break-all;font-size:13px;background:#f3f4f6;padding:.75em">{{.Token}}</pre>
{{- if .HolderEmail}}
<p>A key on a phone's browser belongs to the site that issued it, so adding the token makes a new Smart credential at your site and emails {{.Holder}} an invitation at <strong>{{.HolderEmail}}</strong> to register a phone key at your site. If {{.Holder}} has no user at your site yet, create one first. The user's permissions decide which doors the key opens.</p>
{{- else}}
<p>If {{.Holder}} has no user at your site yet, create one first. Adding the token gives no access by itself: the user's permissions decide which doors the phone opens.</p>
{{- end}}
<table style="font-size:14px">
<tr><td>Issued by</td><td>{{.Issuer}}</td></tr>
{{- if .IssuerURL}}
<tr><td>Issuer's address</td><td>{{.IssuerURL}}</td></tr>
{{- end}}
{{- if .Fingerprint}}
<tr><td>Issuer's key fingerprint</td><td style="font-family:monospace;word-break:break-all">{{.Fingerprint}}</td></tr>
{{- end}}
</table>
{{- if .Expires}}
<p>The token can be added until {{.Expires}}. After that, {{.Holder}} can send a new one from the app.</p>
{{- end}}
<p>The name was typed by the person asking; check it with them before you add the token. If you do not know them or did not expect this email, ignore it: nothing changes at your site until someone adds the token.</p>
`))
