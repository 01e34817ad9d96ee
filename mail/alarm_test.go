package mail

import (
	"strings"
	"testing"
	"time"
)

func TestAlarm(t *testing.T) {
	at := time.Date(2026, 3, 11, 10, 0, 0, 0, time.UTC)
	forced := AlarmLine{At: at, What: "Door forced open", Where: "Back door", Detail: "opened with no grant"}
	held := AlarmLine{At: at.Add(time.Minute), What: "Door held open too long", Where: "Back door"}
	tests := []struct {
		name        string
		alarms      []AlarmLine
		wantSubject string
		wantText    []string
	}{
		{"one alarm", []AlarmLine{forced}, "Alarm at Main office: Door forced open at Back door", []string{"An alarm at Main office:", "Door forced open at Back door (opened with no grant)", "http://doors.example/events"}},
		{"a digest", []AlarmLine{forced, held}, "2 alarms at Main office", []string{"2 alarms at Main office, in the order they happened:", "Door forced open", "Door held open too long at Back door"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Alarm(AlarmData{SiteName: "Main office", SiteURL: "http://doors.example", To: []string{"ops@example.com"}, From: "postern@example.com", Alarms: tt.alarms, Location: time.UTC})
			if m.Subject != tt.wantSubject {
				t.Errorf("subject %q, want %q", m.Subject, tt.wantSubject)
			}
			text := strings.Join(strings.Fields(m.Text), " ") // as read, not as wrapped
			for _, w := range tt.wantText {
				if !strings.Contains(text, w) {
					t.Errorf("the text lacks %q:\n%s", w, m.Text)
				}
			}
			for _, a := range tt.alarms {
				if !strings.Contains(m.HTML, "<strong>"+a.What+"</strong> at "+a.Where) {
					t.Errorf("the HTML lacks %q at %q", a.What, a.Where)
				}
			}
			if _, err := m.Bytes(); err != nil {
				t.Errorf("the message does not render: %v", err)
			}
		})
	}
}
