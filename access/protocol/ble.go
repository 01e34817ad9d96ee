package protocol

// GATT identifiers. They are random version 4 UUIDs drawn once for Postern;
// nothing else is derived from them. Adverts carry only the service UUID: no
// name, no credential or device id, no static identifier a tracker could
// follow (the phone's BLE address already rotates).
//
// Discovery works both ways with the same messages after it. When the key
// advertises KeyServiceUUID (Android, foreground iOS), the reader connects,
// subscribes to KeyTXUUID and writes to KeyRXUUID. When the reader
// advertises ReaderServiceUUID (for backgrounded iPhones, which a non-Apple
// scanner cannot find), the key connects, subscribes to ReaderTXUUID and
// writes to ReaderRXUUID. Either way the reader sends the challenge and the
// result, and the key sends the response.
const (
	// KeyServiceUUID is the service the key hosts and advertises.
	KeyServiceUUID = "6111410f-d6fa-47ba-ba30-c84544d7bf0c"
	// KeyRXUUID is the key's characteristic the reader writes to
	// (challenge, result), with write-with-response.
	KeyRXUUID = "37cdf37b-edcc-424a-b6dc-21b28883434d"
	// KeyTXUUID is the key's characteristic it notifies on (response).
	KeyTXUUID = "72a5f413-d40c-4b37-9f15-ed25fcd129fd"

	// ReaderServiceUUID is the service a reader hosts and advertises when
	// the phone is the one that connects.
	ReaderServiceUUID = "3afbf2ae-34a0-4f15-9add-4657ab1c2863"
	// ReaderRXUUID is the reader's characteristic the key writes to
	// (response), with write-with-response.
	ReaderRXUUID = "1304a292-30bd-4456-bfe9-9ae61f5cb2e4"
	// ReaderTXUUID is the reader's characteristic it notifies on
	// (challenge, result).
	ReaderTXUUID = "4fc8fd46-e568-4807-94cd-21f2be456088"
)
