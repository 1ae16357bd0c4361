package dtmf

import "testing"

func TestKeyCodeMapping(t *testing.T) {
	tests := []struct {
		key  byte
		code uint8
	}{
		{'0', 0}, {'1', 1}, {'2', 2}, {'3', 3}, {'4', 4}, {'5', 5}, {'6', 6}, {'7', 7},
		{'8', 8}, {'9', 9}, {'*', 10}, {'#', 11}, {'A', 12}, {'B', 13}, {'C', 14}, {'D', 15},
		{Flash, 16},
	}
	for _, tt := range tests {
		code, ok := KeyToCode(tt.key)
		if !ok || code != tt.code {
			t.Errorf("KeyToCode(%q) = %d, %v; want %d", tt.key, code, ok, tt.code)
		}
		key, ok := CodeToKey(tt.code)
		if !ok || key != tt.key {
			t.Errorf("CodeToKey(%d) = %q, %v; want %q", tt.code, key, ok, tt.key)
		}
	}
	for _, lower := range []byte("abcd") {
		code, ok := KeyToCode(lower)
		if want := 12 + lower - 'a'; !ok || code != want {
			t.Errorf("KeyToCode(%q) = %d, %v; want %d", lower, code, ok, want)
		}
	}
	for _, bad := range []byte("EeXx+/ \x00") {
		if code, ok := KeyToCode(bad); ok {
			t.Errorf("KeyToCode(%q) = %d, true; want not ok", bad, code)
		}
	}
	for code := 17; code < 256; code++ {
		if key, ok := CodeToKey(uint8(code)); ok {
			t.Errorf("CodeToKey(%d) = %q, true; want not ok", code, key)
		}
	}
}

func TestFrequencies(t *testing.T) {
	tests := []struct {
		key       byte
		low, high float64
	}{
		{'1', 697, 1209}, {'2', 697, 1336}, {'3', 697, 1477}, {'A', 697, 1633},
		{'4', 770, 1209}, {'5', 770, 1336}, {'6', 770, 1477}, {'B', 770, 1633},
		{'7', 852, 1209}, {'8', 852, 1336}, {'9', 852, 1477}, {'C', 852, 1633},
		{'*', 941, 1209}, {'0', 941, 1336}, {'#', 941, 1477}, {'D', 941, 1633},
		{'d', 941, 1633},
	}
	for _, tt := range tests {
		low, high, ok := Frequencies(tt.key)
		if !ok || low != tt.low || high != tt.high {
			t.Errorf("Frequencies(%q) = %v, %v, %v; want %v, %v", tt.key, low, high, ok, tt.low, tt.high)
		}
	}
	for _, bad := range []byte{Flash, 'E', 0} {
		if _, _, ok := Frequencies(bad); ok {
			t.Errorf("Frequencies(%q) ok; want not ok", bad)
		}
	}
}

func TestEdgeString(t *testing.T) {
	for e, want := range map[Edge]string{Press: "press", Release: "release", 0: "unknown", 9: "unknown"} {
		if got := e.String(); got != want {
			t.Errorf("Edge(%d).String() = %q, want %q", e, got, want)
		}
	}
	if got := (Report{Duration: 800}).Time(0); got != 0 {
		t.Errorf("Time at clock rate 0 = %v", got)
	}
}
