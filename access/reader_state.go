package access

// ReaderState is how an access point's reader is doing on this gateway, as
// the dashboard shows it.
type ReaderState string

// Reader states.
const (
	// ReaderListening: the reader runs and takes up keys.
	ReaderListening ReaderState = "listening"
	// ReaderNoRadio: the radio the reader is bound to (a Bluetooth adapter,
	// or the simulated air) is not on this gateway.
	ReaderNoRadio ReaderState = "no radio"
	// ReaderStopped: the reader is not running: it failed, or it has not
	// started yet after a change.
	ReaderStopped ReaderState = "stopped"
)
