package access

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Window is a weekly period in the site's time zone: on each of Days, from
// Start to End minutes after midnight. An End at or before Start runs past
// midnight into the next day, so a night shift is one window.
type Window struct {
	Days  []time.Weekday `json:"days"`
	Start int            `json:"start"` // minutes, 0..1439
	End   int            `json:"end"`   // minutes, 1..1440
}

// TimeProfile is a named weekly schedule with holidays on which it is closed.
type TimeProfile struct {
	ID       int64
	Name     string
	Windows  []Window
	Holidays []Date
}

// Date is a calendar day in the site's time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// DateOf is the calendar day of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseClock reads HH:MM (24:00 allowed as an end) into minutes.
func ParseClock(s string) (int, error) {
	var h, m int
	if _, err := fmt.Sscanf(strings.TrimSpace(s), "%d:%d", &h, &m); err != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is not a time of day (HH:MM)", s)
	}
	return h*60 + m, nil
}

// FormatClock writes minutes as HH:MM.
func FormatClock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

// Normalize trims the name and orders days and holidays.
func (p *TimeProfile) Normalize() {
	p.Name = strings.TrimSpace(p.Name)
	for i := range p.Windows {
		slices.Sort(p.Windows[i].Days)
		p.Windows[i].Days = slices.Compact(p.Windows[i].Days)
	}
	slices.SortFunc(p.Holidays, func(a, b Date) int { return strings.Compare(a.String(), b.String()) })
	p.Holidays = slices.Compact(p.Holidays)
}

// Validate checks a time profile before it is stored. It returns every
// field's error at once, as ValidationErrors; the windows field carries
// the first window that is wrong.
func (p TimeProfile) Validate() error {
	var errs ValidationErrors
	if p.Name == "" {
		errs.Add("name", "is required")
	}
	if len(p.Name) > 100 {
		errs.Add("name", "must be at most 100 characters")
	}
	errs.addText("name", CheckLine(p.Name))
	if len(p.Windows) == 0 {
		errs.Add("windows", "add at least one weekly window")
	}
	if len(p.Windows) > 50 || len(p.Holidays) > 500 {
		errs.Add("windows", "too many windows or holidays")
	}
	for i, w := range p.Windows {
		if len(w.Days) == 0 {
			errs.Add("windows", "window %d has no days", i+1)
		}
		for _, d := range w.Days {
			if d < time.Sunday || d > time.Saturday {
				errs.Add("windows", "window %d has an unknown day", i+1)
			}
		}
		if w.Start < 0 || w.Start > 1439 || w.End < 1 || w.End > 1440 {
			errs.Add("windows", "window %d has a time outside the day", i+1)
		}
		if w.Start == w.End {
			errs.Add("windows", "window %d starts and ends at the same time", i+1)
		}
	}
	return errs.Err()
}

// Allows reports whether the profile is open at t, read on the wall clock of
// loc. Wall-clock reading is what makes daylight-saving changes behave as
// people expect: "08:00-18:00" means 08:00 local on both sides of a change.
func (p TimeProfile) Allows(t time.Time, loc *time.Location) bool {
	if loc == nil {
		loc = time.UTC
	}
	local := t.In(loc)
	today := DateOf(local)
	min := local.Hour()*60 + local.Minute()
	yesterday := DateOf(time.Date(today.Year, today.Month, today.Day-1, 12, 0, 0, 0, loc))
	wd := local.Weekday()
	prev := (wd + 6) % 7
	for _, w := range p.Windows {
		if w.End > w.Start {
			if slices.Contains(w.Days, wd) && min >= w.Start && min < w.End && !p.holiday(today) {
				return true
			}
			continue
		}
		// Overnight: the evening part belongs to today, the early-morning
		// part to the shift that began yesterday.
		if slices.Contains(w.Days, wd) && min >= w.Start && !p.holiday(today) {
			return true
		}
		if slices.Contains(w.Days, prev) && min < w.End && !p.holiday(yesterday) {
			return true
		}
	}
	return false
}

func (p TimeProfile) holiday(d Date) bool { return slices.Contains(p.Holidays, d) }

// DayNames are short weekday names in Monday-first order, as forms show them.
var DayNames = []struct {
	Day  time.Weekday
	Name string
}{
	{time.Monday, "Mon"}, {time.Tuesday, "Tue"}, {time.Wednesday, "Wed"},
	{time.Thursday, "Thu"}, {time.Friday, "Fri"}, {time.Saturday, "Sat"}, {time.Sunday, "Sun"},
}

// String describes a window as people write it, Monday first, with runs
// of three or more days as a range: "Mon-Fri 08:00-18:00", "Tue Thu 09:00-12:00".
// ParseWindow reads it back.
func (w Window) String() string {
	var parts []string
	for i := 0; i < len(DayNames); {
		if !slices.Contains(w.Days, DayNames[i].Day) {
			i++
			continue
		}
		j := i
		for j+1 < len(DayNames) && slices.Contains(w.Days, DayNames[j+1].Day) {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, DayNames[i].Name+"-"+DayNames[j].Name)
		default:
			for k := i; k <= j; k++ {
				parts = append(parts, DayNames[k].Name)
			}
		}
		i = j + 1
	}
	return strings.Join(parts, " ") + " " + FormatClock(w.Start) + "-" + FormatClock(w.End)
}

// ParseWindow reads one window as people write it: days then a time range,
// such as "Mon-Fri 08:00-18:00", "Sat Sun 10:00-14:00" or
// "Mon,Wed 22:00-06:00". "Daily" and "Weekdays" are accepted too.
func ParseWindow(s string) (Window, error) {
	fields := strings.Fields(strings.ReplaceAll(s, ",", " "))
	if len(fields) < 2 {
		return Window{}, fmt.Errorf("%q: write days then a time range, such as Mon-Fri 08:00-18:00", s)
	}
	var w Window
	for _, f := range fields[:len(fields)-1] {
		days, err := parseDays(f)
		if err != nil {
			return Window{}, fmt.Errorf("%q: %v", s, err)
		}
		w.Days = append(w.Days, days...)
	}
	from, to, ok := strings.Cut(fields[len(fields)-1], "-")
	if !ok {
		return Window{}, fmt.Errorf("%q: the time range must look like 08:00-18:00", s)
	}
	var err error
	if w.Start, err = ParseClock(from); err != nil {
		return Window{}, err
	}
	if w.End, err = ParseClock(to); err != nil {
		return Window{}, err
	}
	slices.Sort(w.Days)
	w.Days = slices.Compact(w.Days)
	return w, nil
}

// ParseWindows reads one window per line, skipping blank lines.
func ParseWindows(text string) ([]Window, error) {
	var ws []Window
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		w, err := ParseWindow(line)
		if err != nil {
			return nil, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}

// ParseHolidays reads dates separated by lines, commas or spaces.
func ParseHolidays(text string) ([]Date, error) {
	var ds []Date
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == ',' || r == ' ' || r == '\r' || r == '\t' }) {
		d, err := ParseDate(f)
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	return ds, nil
}

func parseDays(s string) ([]time.Weekday, error) {
	switch strings.ToLower(s) {
	case "daily", "every", "all":
		return []time.Weekday{0, 1, 2, 3, 4, 5, 6}, nil
	case "weekdays":
		return []time.Weekday{1, 2, 3, 4, 5}, nil
	case "weekends":
		return []time.Weekday{0, 6}, nil
	}
	from, to, isRange := strings.Cut(s, "-")
	a, err := parseDay(from)
	if err != nil {
		return nil, err
	}
	if !isRange {
		return []time.Weekday{a}, nil
	}
	b, err := parseDay(to)
	if err != nil {
		return nil, err
	}
	// Ranges run Monday-first and may wrap: Fri-Mon is Fri Sat Sun Mon.
	var days []time.Weekday
	for d := a; ; d = (d + 1) % 7 {
		days = append(days, d)
		if d == b {
			return days, nil
		}
	}
}

func parseDay(s string) (time.Weekday, error) {
	s = strings.ToLower(s)
	for _, dn := range DayNames {
		name := strings.ToLower(dn.Name)
		if len(s) >= 2 && strings.HasPrefix(strings.ToLower(dn.Day.String()), s) || s == name {
			return dn.Day, nil
		}
	}
	return 0, fmt.Errorf("%q is not a day (Mon, Tue, … or Weekdays, Daily)", s)
}

// FormatWindows writes windows one per line, as ParseWindows reads them.
func FormatWindows(ws []Window) string {
	lines := make([]string, len(ws))
	for i, w := range ws {
		lines[i] = w.String()
	}
	return strings.Join(lines, "\n")
}

// FormatHolidays writes holidays one per line.
func FormatHolidays(ds []Date) string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// OpensAt returns the first instant of day, in loc, at which the profile is
// open, and false when it does not open that day. A night window from the
// day before that runs past midnight opens the day at midnight.
func (p TimeProfile) OpensAt(day Date, loc *time.Location) (time.Time, bool) {
	if loc == nil {
		loc = time.UTC
	}
	midnight := time.Date(day.Year, day.Month, day.Day, 0, 0, 0, 0, loc)
	wd := midnight.Weekday()
	prev := (wd + 6) % 7
	yesterday := DateOf(time.Date(day.Year, day.Month, day.Day-1, 12, 0, 0, 0, loc))
	first := -1
	for _, w := range p.Windows {
		if w.End <= w.Start && w.End > 0 && slices.Contains(w.Days, prev) && !p.holiday(yesterday) {
			first = 0
			break
		}
		if slices.Contains(w.Days, wd) && !p.holiday(day) && (first < 0 || w.Start < first) {
			first = w.Start
		}
	}
	if first < 0 {
		return time.Time{}, false
	}
	return time.Date(day.Year, day.Month, day.Day, first/60, first%60, 0, 0, loc), true
}
