package main

import (
	"slices"
	"testing"
)

func TestParseRadio(t *testing.T) {
	tests := []struct {
		spec    string
		want    radioPlan
		wantErr bool
	}{
		{spec: "auto", want: radioPlan{auto: true, adapters: []string{"hci0"}}},
		{spec: "sim", want: radioPlan{sim: true}},
		{spec: "hci0", want: radioPlan{adapters: []string{"hci0"}}},
		{spec: "hci0,hci1", want: radioPlan{adapters: []string{"hci0", "hci1"}}},
		{spec: "hci1, sim", want: radioPlan{sim: true, adapters: []string{"hci1"}}},
		{spec: "hci0,hci0", wantErr: true},
		{spec: "hci0,auto", wantErr: true},
		{spec: "hci0,", wantErr: true},
		{spec: "usb0", wantErr: true},
		{spec: "hci01", wantErr: true},
		{spec: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := parseRadio(tt.spec)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error: %v", err, tt.wantErr)
			}
			if err == nil && (got.auto != tt.want.auto || got.sim != tt.want.sim || !slices.Equal(got.adapters, tt.want.adapters)) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
