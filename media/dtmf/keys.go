package dtmf

// Flash is the key this package uses for the hook-flash event (RFC 4733
// §3.2 event code 16). It has no in-band tone pair.
const Flash byte = '!'

// FlashCode is the RFC 4733 event code of a hook flash.
const FlashCode uint8 = 16

// keys lists the key of each DTMF event code: code i is keys[i]
// (RFC 4733 §3.2: 0-9, * = 10, # = 11, A-D = 12-15, flash = 16).
const keys = "0123456789*#ABCD!"

// Row (low-group) and column (high-group) frequencies in Hz of the DTMF
// keypad (ITU-T Q.23).
var (
	rowFreqs = [4]float64{697, 770, 852, 941}
	colFreqs = [4]float64{1209, 1336, 1477, 1633}
)

// keypad[row][col] is the key sent by the tone pair rowFreqs[row] + colFreqs[col].
var keypad = [4][4]byte{
	{'1', '2', '3', 'A'},
	{'4', '5', '6', 'B'},
	{'7', '8', '9', 'C'},
	{'*', '0', '#', 'D'},
}

// KeyToCode returns the RFC 4733 event code of key ('0'-'9', '*', '#',
// 'A'-'D' in either case, or Flash). ok is false for any other byte.
func KeyToCode(key byte) (code uint8, ok bool) {
	switch {
	case key >= '0' && key <= '9':
		return key - '0', true
	case key == '*':
		return 10, true
	case key == '#':
		return 11, true
	case key >= 'A' && key <= 'D':
		return 12 + key - 'A', true
	case key >= 'a' && key <= 'd':
		return 12 + key - 'a', true
	case key == Flash:
		return FlashCode, true
	}
	return 0, false
}

// CodeToKey returns the key of an RFC 4733 DTMF event code (0-16). ok is
// false for codes above 16, which are not DTMF events.
func CodeToKey(code uint8) (key byte, ok bool) {
	if int(code) >= len(keys) {
		return 0, false
	}
	return keys[code], true
}

// Frequencies returns the low-group (row) and high-group (column) tone
// frequencies in Hz that key is sent with in-band (ITU-T Q.23). ok is false
// for Flash and for bytes that are not DTMF keys.
func Frequencies(key byte) (low, high float64, ok bool) {
	if key >= 'a' && key <= 'd' {
		key -= 'a' - 'A'
	}
	for r := range keypad {
		for c := range keypad[r] {
			if keypad[r][c] == key {
				return rowFreqs[r], colFreqs[c], true
			}
		}
	}
	return 0, 0, false
}

// Edge says whether a report marks the start or the end of a key press.
type Edge uint8

// The edges of a key press.
const (
	// Press marks the start of a key press.
	Press Edge = iota + 1
	// Release marks the end of a key press; it carries the duration.
	Release
)

// String returns "press", "release" or "unknown".
func (e Edge) String() string {
	switch e {
	case Press:
		return "press"
	case Release:
		return "release"
	}
	return "unknown"
}
