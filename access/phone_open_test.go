package access

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestParseNetworks(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{"empty is no list", "  ", "", ""},
		{"prefixes are masked", "192.168.1.7/24", "192.168.1.0/24", ""},
		{"an address is its own network", "10.0.0.5", "10.0.0.5/32", ""},
		{"commas, lines and repeats", "10.0.0.0/8,\n2001:db8::/32 10.0.0.0/8", "10.0.0.0/8, 2001:db8::/32", ""},
		{"mapped v4 reads as v4", "::ffff:10.1.2.3", "10.1.2.3/32", ""},
		{"words are refused", "office wifi", "", `"office" is not a network`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNetworks(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := NetworksText(got); s != tt.want {
				t.Errorf("got %q, want %q", s, tt.want)
			}
		})
	}
}

func TestPhoneAllowedFrom(t *testing.T) {
	wifi := "192.168.10.0/24, fd00::/8"
	tests := []struct {
		name string
		ap   AccessPoint
		from string
		want bool
	}{
		{"off by default", AccessPoint{}, "192.168.10.5", false},
		{"on without a list: anywhere", AccessPoint{PhoneOpen: true}, "203.0.113.9", true},
		{"on, from the site's Wi-Fi", AccessPoint{PhoneOpen: true, PhoneNetworks: wifi}, "192.168.10.5", true},
		{"on, from the street", AccessPoint{PhoneOpen: true, PhoneNetworks: wifi}, "203.0.113.9", false},
		{"on, v6 on the list", AccessPoint{PhoneOpen: true, PhoneNetworks: wifi}, "fd12::1", true},
		{"on, v4 mapped in v6", AccessPoint{PhoneOpen: true, PhoneNetworks: wifi}, "::ffff:192.168.10.5", true},
		{"a list without the setting opens nothing", AccessPoint{PhoneNetworks: wifi}, "192.168.10.5", false},
		{"a list that does not parse opens nothing", AccessPoint{PhoneOpen: true, PhoneNetworks: "wifi"}, "192.168.10.5", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ap.PhoneAllowedFrom(netip.MustParseAddr(tt.from)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestForPhone(t *testing.T) {
	tests := []struct {
		name         string
		ap           AccessPoint
		wantUnlock   bool
		wantDeadline time.Duration
	}{
		{"a plain door gets the phone's deadline", AccessPoint{}, false, PhoneDeadline},
		{"passkey every time requires unlock", AccessPoint{PhonePasskey: true}, true, DefaultUnlockWindow},
		{"unlock at the reader stays", AccessPoint{RequireUnlock: true}, true, DefaultUnlockWindow},
		{"a longer deadline stays", AccessPoint{ResponseDeadline: 8 * time.Second}, false, 8 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.ap.ForPhone(800 * time.Millisecond)
			if got.RequireUnlock != tt.wantUnlock {
				t.Errorf("unlock: got %v, want %v", got.RequireUnlock, tt.wantUnlock)
			}
			if d := got.Deadline(800 * time.Millisecond); d != tt.wantDeadline {
				t.Errorf("deadline: got %v, want %v", d, tt.wantDeadline)
			}
		})
	}
}

func TestValidatePhoneNetworks(t *testing.T) {
	many := make([]netip.Prefix, MaxPhoneNetworks+1)
	for i := range many {
		many[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 16)
	}
	tests := []struct {
		name     string
		networks string
		wantErr  string
	}{
		{"none", "", ""},
		{"two, normalized", "10.0.0.1/8 192.168.1.1", ""},
		{"too many", NetworksText(many), "at most 32"},
		{"not a network", "the office", "is not a network"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := AccessPoint{Name: "Front", Reader: "sim:front", PhoneOpen: true, PhoneNetworks: tt.networks}
			a.Normalize()
			err := a.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("got %v, want accepted", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "phone_networks") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want a phone_networks error with %q", err, tt.wantErr)
			}
		})
	}
	a := AccessPoint{PhoneNetworks: "10.0.0.1/8 192.168.1.1"}
	a.Normalize()
	if a.PhoneNetworks != "10.0.0.0/8, 192.168.1.1/32" {
		t.Errorf("normalized: got %q", a.PhoneNetworks)
	}
}
