package protocol

import (
	"bytes"
	"testing"
)

func TestFragmentRoundTrip(t *testing.T) {
	msg := make([]byte, MaxMessageSize)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	tests := []struct {
		name      string
		size      int
		mtu       int
		wantFrags int
	}{
		{"challenge at the default MTU", challengeSize(1), DefaultMTU, 2},
		{"response at the default MTU", responseSize(1), DefaultMTU, 1},
		{"one byte", 1, DefaultMTU, 1},
		{"exactly one fragment", DefaultMTU - attOverhead - 3, DefaultMTU, 1},
		{"one byte over one fragment", DefaultMTU - attOverhead - 2, DefaultMTU, 2},
		{"challenge at the minimum MTU", challengeSize(1), MinMTU, 11},
		{"below the minimum MTU counts as the minimum", challengeSize(1), 5, 11},
		{"largest message at the minimum MTU", MaxMessageSize, MinMTU, 28},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frags := Fragment(msg[:tt.size], tt.mtu)
			if len(frags) != tt.wantFrags {
				t.Errorf("fragments: got %v, want %v", len(frags), tt.wantFrags)
			}
			var r Reassembler
			for i, fr := range frags {
				if len(fr) > max(tt.mtu, MinMTU)-attOverhead {
					t.Errorf("fragment %d: got %v bytes, want at most %v", i, len(fr), max(tt.mtu, MinMTU)-attOverhead)
				}
				got, done, err := r.Add(fr)
				if err != nil {
					t.Fatalf("fragment %d: %v", i, err)
				}
				if done != (i == len(frags)-1) {
					t.Fatalf("fragment %d: done=%v", i, done)
				}
				if done && !bytes.Equal(got, msg[:tt.size]) {
					t.Errorf("message: got %x, want %x", got, msg[:tt.size])
				}
			}
		})
	}
}

func TestFragmentPanicsOnEmpty(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("got no panic, want one")
		}
	}()
	Fragment(nil, DefaultMTU)
}

func TestReassemblerRefuses(t *testing.T) {
	msg := bytes.Repeat([]byte{0xAB}, 60)
	frags := Fragment(msg, MinMTU) // 20-byte fragments: 4 of them
	if len(frags) != 4 {
		t.Fatalf("setup: got %d fragments, want 4", len(frags))
	}
	mod := func(fr []byte, fn func(b []byte)) []byte {
		b := bytes.Clone(fr)
		fn(b)
		return b
	}
	tests := []struct {
		name  string
		max   int
		input [][]byte
	}{
		{"empty fragment", 0, [][]byte{{}}},
		{"header only", 0, [][]byte{{fragFirst | fragLast}}},
		{"continuation without a first fragment", 0, [][]byte{frags[1]}},
		{"skipped fragment", 0, [][]byte{frags[0], frags[2]}},
		{"repeated fragment", 0, [][]byte{frags[0], frags[1], frags[1]}},
		{"first fragment twice", 0, [][]byte{frags[0], frags[0]}},
		{"first fragment numbered 1", 0, [][]byte{mod(frags[0], func(b []byte) { b[0] |= 1 })}},
		{"zero length", 0, [][]byte{mod(frags[0], func(b []byte) { b[1], b[2] = 0, 0 })}},
		{"over MaxMessageSize", 0, [][]byte{mod(frags[0], func(b []byte) { b[1], b[2] = 0x02, 0x01 })}},
		{"over a smaller MaxSize", 59, [][]byte{frags[0]}},
		{"overruns its length", 0, [][]byte{mod(frags[0], func(b []byte) { b[1], b[2] = 0, 10 })}},
		{"last too early", 0, [][]byte{frags[0], mod(frags[1], func(b []byte) { b[0] |= fragLast })}},
		{"complete but not marked last", 0, [][]byte{frags[0], frags[1], frags[2], mod(frags[3], func(b []byte) { b[0] &^= fragLast })}},
		{"first fragment too short", 0, [][]byte{{fragFirst, 0, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Reassembler{MaxSize: tt.max}
			var err error
			for _, fr := range tt.input {
				if _, _, err = r.Add(fr); err != nil {
					break
				}
			}
			wantErr(t, err, ErrMalformed)
			// After an error the reassembler starts over cleanly.
			r.MaxSize = 0
			var got []byte
			for _, fr := range frags {
				got, _, err = r.Add(fr)
				if err != nil {
					t.Fatalf("after error: %v", err)
				}
			}
			if !bytes.Equal(got, msg) {
				t.Errorf("after error: got %x, want %x", got, msg)
			}
		})
	}
}

func TestReassemblerSequenceWraps(t *testing.T) {
	// More than 64 fragments: the 6-bit counter wraps and must keep working.
	msg := make([]byte, 2000)
	for i := range msg {
		msg[i] = byte(i)
	}
	frags := Fragment(msg, MinMTU)
	if len(frags) <= 64 {
		t.Fatalf("setup: got %d fragments, want more than 64", len(frags))
	}
	r := Reassembler{MaxSize: len(msg)}
	var got []byte
	for i, fr := range frags {
		var err error
		if got, _, err = r.Add(fr); err != nil {
			t.Fatalf("fragment %d: %v", i, err)
		}
	}
	if !bytes.Equal(got, msg) {
		t.Errorf("got %d bytes, want the %d sent", len(got), len(msg))
	}
}
