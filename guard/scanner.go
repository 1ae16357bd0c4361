package guard

import "bytes"

// DefaultScanners are the User-Agent substrings of well-known SIP scanners
// (SIPVicious in its guises, sipcli, sundayddr, the VaxSIPUserAgent
// scanners, SIPScan, iWar, smap, pplsip), dropped by default.
var DefaultScanners = []string{"friendly-scanner", "sipvicious", "sipcli", "sundayddr", "vaxsipuseragent", "sip-scan", "iwar", "smap", "pplsip"}

// maxUserAgent is how much of a User-Agent is searched (scanners put their
// name first; a longer value is cut, not skipped).
const maxUserAgent = 256

// scanners is a compiled drop list: lower-case patterns as bytes.
type scanners [][]byte

func compileScanners(pats []string) scanners {
	out := make(scanners, 0, len(pats))
	for _, p := range pats {
		if p == "" {
			continue
		}
		out = append(out, bytes.ToLower([]byte(p)))
	}
	return out
}

// match reports whether ua contains one of the patterns, ignoring ASCII
// case: ua is lower-cased once into a stack buffer and searched with
// bytes.Index (no allocation).
func (s scanners) match(ua string) bool {
	if len(s) == 0 || ua == "" {
		return false
	}
	var buf [maxUserAgent]byte
	n := copy(buf[:], ua)
	for i := 0; i < n; i++ {
		if c := buf[i]; 'A' <= c && c <= 'Z' {
			buf[i] = c + 'a' - 'A'
		}
	}
	for _, p := range s {
		if bytes.Index(buf[:n], p) >= 0 {
			return true
		}
	}
	return false
}
