package ble

import (
	"context"
	"crypto/ecdsa"

	"postern/access"
	"postern/access/protocol"
)

// A reissue gives a credential a new code; when a new phone registers with
// it, the new phone's keys replace the old one's. The old phone still holds
// the credential's id, so when it is presented its signature no longer
// verifies. That is not an attack to refuse anonymously but a person at the
// door with their old phone: the reader checks the keys of the devices the
// credential had before and, on a match, decides it as a denial of that
// credential ("replaced by a newer phone"), with the user named in the log
// and the key told why.

// replacedDevice reports whether the response is signed by a device that a
// newer one replaced on the credential; verify checks the response's
// signature (of either version) with a key, uv says which of the device's
// keys it names.
func (x *SiteExchange) replacedDevice(ctx context.Context, id access.CredentialID, uv bool, verify func(*ecdsa.PublicKey) error) (bool, error) {
	devices, err := x.Store.ReplacedDevices(ctx, id)
	if err != nil {
		return false, err
	}
	for _, d := range devices {
		pub := d.Tap
		if uv {
			pub = d.UV
		}
		key, err := protocol.ParsePublicKey(pub)
		if err != nil {
			continue
		}
		if verify(key) == nil {
			return true, nil
		}
	}
	return false, nil
}

// replacedHolder reports whether an expedited-path ticket was issued to a
// device that a newer one replaced on the credential.
func (x *SiteExchange) replacedHolder(ctx context.Context, id access.CredentialID, holder [32]byte) (bool, error) {
	devices, err := x.Store.ReplacedDevices(ctx, id)
	if err != nil {
		return false, err
	}
	for _, d := range devices {
		if holderOf(d.Tap, d.UV) == holder {
			return true, nil
		}
	}
	return false, nil
}
