package access

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// "Open from this phone": a registered web key opens an access point over
// the site's HTTPS rather than at the reader. Nothing then proves the phone
// is at the door, so it is off by default, and an admin who turns it on
// can narrow it to the site's own networks and ask for the passkey (the
// phone's biometric or passcode) at every open.

// MaxPhoneNetworks bounds an access point's network list: a site's Wi-Fi
// and VPN ranges, not a routing table.
const MaxPhoneNetworks = 32

// PhoneDeadline is the least time a phone opening over the network has to
// answer the challenge: a mobile round trip and the page's own signing
// take longer than a radio link, and with no proximity to narrow there is
// no relay for a short deadline to hold back.
const PhoneDeadline = 5 * time.Second

// ParseNetworks reads a list of networks separated by commas, spaces or
// lines: CIDR prefixes (10.0.0.0/8, 2001:db8::/32) or single addresses.
// It returns them in canonical form, masked, without repeats.
func ParseNetworks(s string) ([]netip.Prefix, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == ';' })
	var out []netip.Prefix
	seen := map[netip.Prefix]bool{}
	for _, f := range fields {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("%q is not a network such as 192.168.1.0/24 or an address", f)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()).Masked()
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// NetworksText is the list as ParseNetworks reads it back, comma separated.
func NetworksText(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// PhoneAllowedFrom reports whether a phone whose request comes from addr
// may open this access point over the network: the setting is on, and the
// address is in one of its networks when it lists any.
func (a AccessPoint) PhoneAllowedFrom(addr netip.Addr) bool {
	if !a.PhoneOpen {
		return false
	}
	nets, err := ParseNetworks(a.PhoneNetworks)
	if err != nil {
		return false // Validate refuses such a list; never read it as "any"
	}
	if len(nets) == 0 {
		return true
	}
	addr = addr.Unmap()
	for _, p := range nets {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// ForPhone is the access point as an open from a phone over the network
// meets it: unlock required where the admin asked for the passkey every
// time, and a deadline of at least PhoneDeadline.
func (a AccessPoint) ForPhone(def time.Duration) AccessPoint {
	a.RequireUnlock = a.RequireUnlock || a.PhonePasskey
	if d := a.Deadline(def); d < PhoneDeadline {
		a.ResponseDeadline = PhoneDeadline
	}
	return a
}

// validatePhone adds the phone settings' errors.
func (a AccessPoint) validatePhone(errs *ValidationErrors) {
	nets, err := ParseNetworks(a.PhoneNetworks)
	switch {
	case err != nil:
		errs.Add("phone_networks", "%v", err)
	case len(nets) > MaxPhoneNetworks:
		errs.Add("phone_networks", "must list at most %d networks", MaxPhoneNetworks)
	}
}
