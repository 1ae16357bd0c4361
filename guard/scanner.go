package guard

// DefaultScanners are the User-Agent substrings of well-known SIP scanners
// (SIPVicious in its guises, sipcli, sundayddr, the VaxSIPUserAgent
// scanners, SIPScan, iWar), dropped by default.
var DefaultScanners = []string{"friendly-scanner", "sipvicious", "sipcli", "sundayddr", "vaxsipuseragent", "sip-scan", "iwar", "smap", "pplsip"}

// scannerMatch reports whether ua contains one of pats (lower-case),
// ignoring ASCII case, without allocating.
func scannerMatch(ua string, pats []string) bool {
	for _, p := range pats {
		if containsFold(ua, p) {
			return true
		}
	}
	return false
}

// containsFold is strings.Contains ignoring ASCII case; pat is lower-case.
func containsFold(s, pat string) bool {
	n := len(pat)
	if n == 0 {
		return false
	}
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != pat[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}
