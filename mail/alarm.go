package mail

import (
	"fmt"
	"html/template"
	"time"
)

// AlarmLine is one alarm as an email tells it.
type AlarmLine struct {
	At     time.Time
	What   string // in people's words: "Door forced open"
	Where  string // the access point, if any
	Detail string
}

// AlarmData is what an alarm email needs: the site, who it goes to, and
// the alarms, oldest first.
type AlarmData struct {
	SiteName string
	SiteURL  string
	To       []string
	From     string
	Alarms   []AlarmLine
	Location *time.Location // the site's time zone
}

// Alarm is the email telling admins of alarms: one alarm in its own mail,
// several that fired close together in one digest, so a burst (a door
// propped open, a lockdown) is one mail, not a flood.
func Alarm(d AlarmData) Message {
	site := clean(d.SiteName)
	if site == "" {
		site = "your site"
	}
	lines := make([]alarmView, len(d.Alarms))
	for i, a := range d.Alarms {
		lines[i] = alarmView{When: when(a.At, d.Location), What: clean(a.What), Where: clean(a.Where), Detail: clean(a.Detail)}
	}
	m := Message{From: fromWithName(d.From, "Postern at "+site), To: d.To}
	m.MessageID = newMessageID(m.From)
	switch {
	case len(lines) == 1 && lines[0].Where != "":
		m.Subject = fmt.Sprintf("Alarm at %s: %s at %s", site, lines[0].What, lines[0].Where)
	case len(lines) == 1:
		m.Subject = fmt.Sprintf("Alarm at %s: %s", site, lines[0].What)
	default:
		m.Subject = fmt.Sprintf("%d alarms at %s", len(lines), site)
	}
	var t plainText
	if len(lines) == 1 {
		t.para("An alarm at " + site + ":")
	} else {
		t.para(fmt.Sprintf("%d alarms at %s, in the order they happened:", len(lines), site))
	}
	for _, l := range lines {
		t.item("- ", "  ", l.text())
	}
	if d.SiteURL != "" {
		t.para("The events page has the whole story: " + oneLine(d.SiteURL) + "/events")
	}
	t.para("You get this email because an administrator of " + site + " put your address on its alarm rules.")
	m.Text = t.String()
	m.HTML = renderHTML(alarmHTML, struct {
		Site    string
		Lines   []alarmView
		SiteURL string
	}{site, lines, oneLine(d.SiteURL)}, m.Subject, footer(site, oneLine(d.SiteURL)))
	return m
}

type alarmView struct{ When, What, Where, Detail string }

func (v alarmView) text() string {
	s := v.When + ": " + v.What
	if v.Where != "" {
		s += " at " + v.Where
	}
	if v.Detail != "" {
		s += " (" + v.Detail + ")"
	}
	return s
}

var alarmHTML = template.Must(template.New("alarm").Parse(`
<p>{{if eq (len .Lines) 1}}An alarm at <strong>{{.Site}}</strong>:{{else}}{{len .Lines}} alarms at <strong>{{.Site}}</strong>, in the order they happened:{{end}}</p>
<ul>
{{- range .Lines}}
<li><strong>{{.What}}</strong>{{if .Where}} at {{.Where}}{{end}} <span style="color:#666">{{.When}}</span>{{if .Detail}}<br>{{.Detail}}{{end}}</li>
{{- end}}
</ul>
{{- if .SiteURL}}
<p>The <a href="{{.SiteURL}}/events">events page</a> has the whole story.</p>
{{- end}}
<p style="color:#666">You get this email because an administrator of {{.Site}} put your address on its alarm rules.</p>
`))
