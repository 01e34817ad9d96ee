package access

import "time"

// Reason says why a decision came out as it did.
type Reason uint8

// Decision reasons. The numbers are stable: they are stored in events and
// sent to keys.
const (
	ReasonGranted Reason = iota
	ReasonUnknownCredential
	ReasonCredentialNotActive
	ReasonUserDisabled
	ReasonNotYetValid
	ReasonExpired
	ReasonNoPermission
	ReasonOutsideSchedule
	ReasonUnlockRequired
	ReasonLockedDown
	_ // 10 is the protocol's "not processed", which no decision gives
	// ReasonReplaced: the key is the credential's earlier phone, replaced
	// when a new one registered after a reissue.
	ReasonReplaced
	// ReasonUpdateRequired: the site no longer accepts the key's protocol
	// version.
	ReasonUpdateRequired
	// ReasonOfflineTooLong: a remote reader's copy of the policy is past
	// its offline lease, and the user is not allowed in when offline.
	ReasonOfflineTooLong
)

var reasonNames = [...]string{
	ReasonGranted:             "granted",
	ReasonUnknownCredential:   "unknown credential",
	ReasonCredentialNotActive: "credential not active",
	ReasonUserDisabled:        "user disabled",
	ReasonNotYetValid:         "not yet valid",
	ReasonExpired:             "expired",
	ReasonNoPermission:        "no permission",
	ReasonOutsideSchedule:     "outside schedule",
	ReasonUnlockRequired:      "unlock required",
	ReasonLockedDown:          "locked down",
	ReasonReplaced:            "replaced by a newer phone",
	ReasonUpdateRequired:      "update required",
	ReasonOfflineTooLong:      "reader offline too long",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) && reasonNames[r] != "" {
		return reasonNames[r]
	}
	return "unknown reason"
}

// Request is everything a decision looks at. The caller gathers it; Decide
// itself looks nothing up, so the policy reads the same in tests and at
// the door.
type Request struct {
	Credential   *Credential // nil: the key's credential is not known here
	User         *User       // the credential's user
	AccessPoint  AccessPoint
	Grants       []Grant // permissions reaching the user at this access point
	UserVerified bool    // the key proved the device was unlocked
	// Protocol is the version the key presented with; AcceptV1 is the
	// site's setting that still lets version 1 keys in.
	Protocol int
	AcceptV1 bool
	Now      time.Time
	Location *time.Location // the site's time zone
	Site     SiteMode       // the site's emergency state; "" is normal

	// Replaced: the key proved it is a device this credential had before
	// a newer one registered in its place.
	Replaced bool

	// PolicyStale is set by a remote reader whose copy of the policy is
	// past its offline lease: only users allowed offline get in.
	PolicyStale bool
}

// Decision is the outcome of a presentation.
type Decision struct {
	Granted bool
	Reason  Reason
}

// Decide returns whether the request opens the access point.
func Decide(r Request) Decision {
	deny := func(why Reason) Decision { return Decision{Reason: why} }
	if r.Protocol == 1 && !r.AcceptV1 {
		return deny(ReasonUpdateRequired)
	}
	if LockedDown(r.AccessPoint, r.Site) && (r.User == nil || !r.User.LockdownExempt) {
		return deny(ReasonLockedDown)
	}
	if r.Credential == nil || r.User == nil {
		return deny(ReasonUnknownCredential)
	}
	if r.Replaced {
		return deny(ReasonReplaced)
	}
	if r.Credential.Status != CredentialActive {
		return deny(ReasonCredentialNotActive)
	}
	if r.PolicyStale && !r.User.AllowedOffline {
		return deny(ReasonOfflineTooLong)
	}
	if why := r.User.Standing(r.Now); why != ReasonGranted {
		return deny(why)
	}
	if len(r.Grants) == 0 {
		return deny(ReasonNoPermission)
	}
	inSchedule := false
	for _, g := range r.Grants {
		if g.Profile == nil || g.Profile.Allows(r.Now, r.Location) {
			inSchedule = true
			break
		}
	}
	if !inSchedule {
		return deny(ReasonOutsideSchedule)
	}
	if r.AccessPoint.RequireUnlock && !r.UserVerified {
		return deny(ReasonUnlockRequired)
	}
	return Decision{Granted: true, Reason: ReasonGranted}
}
