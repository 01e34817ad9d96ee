// Package protocol is the Smart credential protocol between a key (a phone,
// or the soft key) and a reader (the appliance): the challenge, response and
// result messages, their crypto, their fragmentation over BLE, the reader's
// freshness bookkeeping, and the small signed artefacts around a credential's
// life (registration proof, share request, credential token).
//
// The byte-level specification is docs/protocol.md; a phone app is built from
// that document, and this package is its reference implementation. Test
// vectors live in testdata/vectors.json.
//
// The package is pure: no clock, no radio, no storage. Time comes in as
// values or an injected func, randomness as an io.Reader (nil means
// crypto/rand), and lookups are the caller's job between the steps that need
// them (OpenResponse, then Opened.Verify with the key the caller found).
package protocol
