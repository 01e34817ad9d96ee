package web_test

import (
	"testing"
)

func TestAPIAccessPoints(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	front := env.create(t, "access-points", `{"name":"Front door","reader":"sim:front","mode":"touch","require_unlock":true,"rssi_threshold":-70}`)
	env.create(t, "access-points", `{"name":"Car park","reader":"sim:car-park","mode":"long-range"}`)
	gone := env.create(t, "access-points", `{"name":"Shed","reader":"hci1","mode":"direct"}`)
	ff := "/api/v1/access-points/" + itoa(front)

	env.runAPI(t, []scenario{
		{name: "create with defaults", method: "POST", url: "/api/v1/access-points", body: `{"name":"Back door","reader":"sim:back","mode":"direct"}`,
			wantStatus: 201, wantContains: []string{`"id":`, `"name":"Back door"`, `"reader":"sim:back"`, `"mode":"direct"`,
				`"rssi_threshold":-60`, `"require_unlock":false`, `"unlock_seconds":5`, `"state":"normal"`}},
		{name: "create long range takes its default threshold", method: "POST", url: "/api/v1/access-points", body: `{"name":"Barrier","reader":"sim:barrier","mode":"long-range"}`,
			wantStatus: 201, wantContains: []string{`"rssi_threshold":-90`}},
		{name: "create with options", method: "POST", url: "/api/v1/access-points",
			body:       `{"name":"Lab","reader":"hci0","mode":"touch","require_unlock":true,"rssi_threshold":-65,"unlock_seconds":10,"state":"lockdown"}`,
			wantStatus: 201, wantContains: []string{`"require_unlock":true`, `"rssi_threshold":-65`, `"unlock_seconds":10`, `"state":"lockdown"`}},
		{name: "reader is lower-cased", method: "POST", url: "/api/v1/access-points", body: `{"name":"Side","reader":"SIM:Side","mode":"direct"}`,
			wantStatus: 201, wantContains: []string{`"reader":"sim:side"`}},
		{name: "list", method: "GET", url: "/api/v1/access-points", wantStatus: 200,
			wantContains: []string{`"access_points":[`, `"name":"Front door"`, `"name":"Car park"`, `"next":`}},
		{name: "get", method: "GET", url: ff, wantStatus: 200,
			wantContains: []string{`"name":"Front door"`, `"reader":"sim:front"`, `"mode":"touch"`, `"require_unlock":true`, `"rssi_threshold":-70`}},

		{name: "patch the name only", method: "PATCH", url: ff, body: `{"name":"Main entrance"}`, wantStatus: 200,
			wantContains: []string{`"name":"Main entrance"`, `"reader":"sim:front"`, `"mode":"touch"`, `"require_unlock":true`, `"rssi_threshold":-70`, `"unlock_seconds":5`}},
		{name: "the rest stayed", method: "GET", url: ff, wantStatus: 200,
			wantContains: []string{`"name":"Main entrance"`, `"reader":"sim:front"`, `"mode":"touch"`, `"require_unlock":true`, `"rssi_threshold":-70`}},
		{name: "patch the state", method: "PATCH", url: ff, body: `{"state":"unlocked"}`, wantStatus: 200,
			wantContains: []string{`"state":"unlocked"`, `"name":"Main entrance"`}},
		{name: "patch require_unlock off", method: "PATCH", url: ff, body: `{"require_unlock":false}`, wantStatus: 200,
			wantContains: []string{`"require_unlock":false`, `"mode":"touch"`}},
		{name: "a new mode without a threshold takes its default", method: "PATCH", url: ff, body: `{"mode":"long-range"}`, wantStatus: 200,
			wantContains: []string{`"mode":"long-range"`, `"rssi_threshold":-90`}},
		{name: "a new mode with a threshold keeps it", method: "PATCH", url: ff, body: `{"mode":"direct","rssi_threshold":-55}`, wantStatus: 200,
			wantContains: []string{`"mode":"direct"`, `"rssi_threshold":-55`}},

		{name: "open from the phone is off by default", method: "GET", url: ff, wantStatus: 200,
			wantContains: []string{`"phone_open":false`, `"phone_networks":[]`, `"phone_passkey":false`}},
		{name: "turn open from the phone on, on two networks", method: "PATCH", url: ff, body: `{"phone_open":true,"phone_networks":["192.168.10.9/24","fd00::/8"],"phone_passkey":true}`,
			wantStatus: 200, wantContains: []string{`"phone_open":true`, `"phone_networks":["192.168.10.0/24","fd00::/8"]`, `"phone_passkey":true`}},
		{name: "a network that is not one", method: "PATCH", url: ff, body: `{"phone_networks":["office wifi"]}`,
			wantStatus: 422, wantContains: []string{"phone_networks", "is not a network"}},
		{name: "an entry with a comma reads as two networks", method: "PATCH", url: ff, body: `{"phone_networks":["10.0.0.0/8,10.1.0.0/16"]}`,
			wantStatus: 200, wantContains: []string{`"phone_networks":["10.0.0.0/8","10.1.0.0/16"]`}},
		{name: "an empty list: from anywhere", method: "PATCH", url: ff, body: `{"phone_networks":[]}`,
			wantStatus: 200, wantContains: []string{`"phone_open":true`, `"phone_networks":[]`}},
		{name: "duplicate reader", method: "POST", url: "/api/v1/access-points", body: `{"name":"Another","reader":"sim:front","mode":"direct"}`,
			wantStatus: 409, wantContains: []string{`"error":"conflict"`}},
		{name: "duplicate reader in capitals", method: "POST", url: "/api/v1/access-points", body: `{"name":"Another","reader":"SIM:FRONT","mode":"direct"}`, wantStatus: 409},
		{name: "duplicate name", method: "POST", url: "/api/v1/access-points", body: `{"name":"car park","reader":"sim:other","mode":"direct"}`, wantStatus: 409},
		{name: "patch onto another's reader", method: "PATCH", url: ff, body: `{"reader":"sim:car-park"}`, wantStatus: 409},
		{name: "bad mode", method: "POST", url: "/api/v1/access-points", body: `{"name":"X","reader":"sim:x","mode":"teleport"}`,
			wantStatus: 422, wantContains: []string{`"error":"invalid"`, "mode"}},
		{name: "bad reader binding", method: "POST", url: "/api/v1/access-points", body: `{"name":"X","reader":"usb0","mode":"direct"}`,
			wantStatus: 422, wantContains: []string{"reader"}},
		{name: "reader with a space", method: "POST", url: "/api/v1/access-points", body: `{"name":"X","reader":"sim:front door","mode":"direct"}`, wantStatus: 422},
		{name: "no reader", method: "POST", url: "/api/v1/access-points", body: `{"name":"X","mode":"direct"}`, wantStatus: 422},
		{name: "no name", method: "POST", url: "/api/v1/access-points", body: `{"reader":"sim:x","mode":"direct"}`, wantStatus: 422, wantContains: []string{"name"}},
		{name: "threshold too high", method: "POST", url: "/api/v1/access-points", body: `{"name":"X","reader":"sim:x","mode":"direct","rssi_threshold":-10}`,
			wantStatus: 422, wantContains: []string{"rssi_threshold"}},
		{name: "threshold too low", method: "POST", url: "/api/v1/access-points", body: `{"name":"X","reader":"sim:x","mode":"direct","rssi_threshold":-200}`, wantStatus: 422},
		{name: "zero unlock time", method: "POST", url: "/api/v1/access-points", body: `{"name":"X","reader":"sim:x","mode":"direct","unlock_seconds":0}`,
			wantStatus: 422, wantContains: []string{"unlock_seconds"}},
		{name: "bad state", method: "POST", url: "/api/v1/access-points", body: `{"name":"X","reader":"sim:x","mode":"direct","state":"open"}`, wantStatus: 422},
		{name: "patch bad mode", method: "PATCH", url: ff, body: `{"mode":"fast"}`, wantStatus: 422},
		{name: "patch bad reader", method: "PATCH", url: ff, body: `{"reader":"bluetooth"}`, wantStatus: 422},
		{name: "threshold not a number", method: "PATCH", url: ff, body: `{"rssi_threshold":"-60"}`, wantStatus: 400, wantContains: []string{"rssi_threshold"}},
		{name: "failed changes left it alone", method: "GET", url: ff, wantStatus: 200,
			wantContains: []string{`"name":"Main entrance"`, `"reader":"sim:front"`, `"mode":"direct"`, `"rssi_threshold":-55`}},

		{name: "delete", method: "DELETE", url: "/api/v1/access-points/" + itoa(gone), wantStatus: 204},
		{name: "deleted is gone", method: "GET", url: "/api/v1/access-points/" + itoa(gone), wantStatus: 404},
		{name: "its reader is free again", method: "POST", url: "/api/v1/access-points", body: `{"name":"New shed","reader":"hci1","mode":"direct"}`, wantStatus: 201},
		{name: "delete again", method: "DELETE", url: "/api/v1/access-points/" + itoa(gone), wantStatus: 404},
	})
	badInput(t, env, "/api/v1/access-points", ff, `{"name":"X","reader":"sim:x","mode":"direct","require_unlock":"yes"}`)
}
