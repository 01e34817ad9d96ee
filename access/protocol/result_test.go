package protocol

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// sessions returns the two ends of one fresh exchange.
func sessions(t *testing.T) (reader, key *Session) {
	t.Helper()
	f := newFixture(t)
	ch, eph := f.challenge(t, 0, t0)
	resp, keySess := f.respond(t, ch, false)
	o, err := OpenResponse(ch, eph, resp)
	if err != nil {
		t.Fatal(err)
	}
	return o.Session, keySess
}

func TestResultRoundTrip(t *testing.T) {
	long := strings.Repeat("é", MaxResultMessage) // 2 bytes each
	tests := []struct {
		name string
		in   Result
		want Result
	}{
		{"granted", Result{Granted: true, Reason: ReasonGranted, Message: "Welcome"}, Result{Granted: true, Reason: ReasonGranted, Message: "Welcome"}},
		{"denied, no message", Result{Reason: ReasonNoPermission}, Result{Reason: ReasonNoPermission}},
		{"every named reason survives", Result{Reason: ReasonNotProcessed, Message: "Try again"}, Result{Reason: ReasonNotProcessed, Message: "Try again"}},
		{"unknown reason code", Result{Reason: 200}, Result{Reason: 200}},
		{"control characters cleaned", Result{Reason: ReasonLockedDown, Message: "a\x1b[2Jb\nc"}, Result{Reason: ReasonLockedDown, Message: "a [2Jb c"}},
		{"invalid UTF-8 cleaned", Result{Reason: ReasonExpired, Message: "ok\xffok"}, Result{Reason: ReasonExpired, Message: "ok ok"}},
		{"long message cut on a rune boundary", Result{Reason: ReasonExpired, Message: long}, Result{Reason: ReasonExpired, Message: long[:MaxResultMessage]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reader, key := sessions(t)
			sealed, err := SealResult(reader, tt.in)
			if err != nil {
				t.Fatalf("SealResult: %v", err)
			}
			got, err := OpenResult(key, sealed)
			if err != nil {
				t.Fatalf("OpenResult: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if !utf8.ValidString(got.Message) || len(got.Message) > MaxResultMessage {
				t.Errorf("message %q is not a valid bounded message", got.Message)
			}
		})
	}
}

func TestSealResultRefuses(t *testing.T) {
	tests := []struct {
		name string
		res  Result
	}{
		{"granted with a denial reason", Result{Granted: true, Reason: ReasonNoPermission}},
		{"denied with the granted reason", Result{Granted: false, Reason: ReasonGranted}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reader, _ := sessions(t)
			if _, err := SealResult(reader, tt.res); err == nil {
				t.Errorf("got nil error, want a refusal")
			}
		})
	}
	if _, err := SealResult(nil, Result{Reason: ReasonExpired}); err == nil {
		t.Errorf("nil session: got nil error, want a refusal")
	}
}

func TestSealResultOnce(t *testing.T) {
	// A second seal would reuse the fixed GCM nonce under the same key.
	reader, _ := sessions(t)
	if _, err := SealResult(reader, Result{Reason: ReasonExpired}); err != nil {
		t.Fatalf("first seal: %v", err)
	}
	if _, err := SealResult(reader, Result{Granted: true, Reason: ReasonGranted}); err == nil {
		t.Errorf("second seal: got nil error, want a refusal")
	}
}

func TestOpenResultRefuses(t *testing.T) {
	reader, key := sessions(t)
	sealed, err := SealResult(reader, Result{Reason: ReasonUserDisabled, Message: "Ask the office"})
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey := sessions(t)
	edit := func(fn func(b []byte) []byte) []byte { return fn(append([]byte(nil), sealed...)) }
	tests := []struct {
		name string
		sess *Session
		raw  []byte
		want error
	}{
		{"another exchange's session", otherKey, sealed, ErrDecrypt},
		{"empty", key, nil, ErrMalformed},
		{"truncated", key, sealed[:len(sealed)-1], ErrDecrypt},
		{"too short", key, sealed[:resultHeaderSize+gcmTagSize], ErrMalformed},
		{"too long", key, append(append([]byte(nil), sealed...), make([]byte, MaxResultMessage)...), ErrMalformed},
		{"wrong type", key, edit(func(b []byte) []byte { b[0] = typeChallenge; return b }), ErrMalformed},
		{"other version", key, edit(func(b []byte) []byte { b[1] = 2; return b }), ErrUnknownVersion},
		{"ciphertext changed", key, edit(func(b []byte) []byte { b[3] ^= 1; return b }), ErrDecrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenResult(tt.sess, tt.raw)
			wantErr(t, err, tt.want)
		})
	}
}

func TestOpenResultInsideChecks(t *testing.T) {
	// The reader's side of the session sealing off-specification plaintext
	// directly: the key must still refuse it.
	tests := []struct {
		name  string
		plain []byte
	}{
		{"granted byte 2", []byte{2, 0, 0}},
		{"granted with a denial reason", []byte{1, byte(ReasonExpired), 0}},
		{"denied with the granted reason", []byte{0, 0, 0}},
		{"length past the end", []byte{0, 1, 5, 'a'}},
		{"length short of the end", []byte{0, 1, 0, 'a'}},
		{"control character", []byte{0, 1, 1, 0x07}},
		{"invalid UTF-8", []byte{0, 1, 1, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, key := sessions(t)
			header := []byte{typeResult, byte(key.version)}
			raw := append(header, seal(key.resultKey, header, tt.plain)...)
			_, err := OpenResult(key, raw)
			wantErr(t, err, ErrMalformed)
		})
	}
}

func TestReasonString(t *testing.T) {
	tests := []struct {
		r    Reason
		want string
	}{
		{ReasonGranted, "granted"},
		{ReasonUnlockRequired, "unlock required"},
		{ReasonNotProcessed, "not processed"},
		{77, "reason 77"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("Reason(%d): got %v, want %v", uint8(tt.r), got, tt.want)
		}
	}
}
