package access

import "time"

// Presence is one person on site for the roll call: who, and the entry
// door and time of the grant that let them in.
type Presence struct {
	UserID          int64
	UserName        string
	Email           string
	AccessPointID   int64
	AccessPointName string
	At              time.Time
}
