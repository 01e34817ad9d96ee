package mail

import "html/template"

// Test is the settings page's "send a test email": a short note that
// proves the SMTP settings deliver to the given address.
func Test(to, from, siteName string) Message {
	site := clean(siteName)
	if site == "" {
		site = "your site"
	}
	m := Message{
		From:    fromWithName(from, site),
		To:      []string{to},
		Subject: "Postern test email from " + site,
	}
	m.MessageID = newMessageID(m.From)
	var t plainText
	t.para("Hello,")
	t.para("This is a test email from Postern at " + site + ", sent from its settings page. It arrived, so the email settings work: invitations and credential emails will go out the same way.")
	t.para("There is nothing else to do.")
	m.Text = t.String()
	m.HTML = renderHTML(testHTML, site, m.Subject, "Sent by Postern for "+site+".")
	return m
}

var testHTML = template.Must(template.New("test").Parse(`
<p>Hello,</p>
<p>This is a test email from Postern at <strong>{{.}}</strong>, sent from its settings page. It arrived, so the email settings work: invitations and credential emails will go out the same way.</p>
<p>There is nothing else to do.</p>
`))
