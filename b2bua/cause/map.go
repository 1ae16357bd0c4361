package cause

import "strconv"

// ToSIP returns the SIP status for a call that fails with Q.850 cause q850
// (RFC 3398 §7.2.4.1). A cause without a status of its own takes the
// default of its class (see the table in table.go); a value outside 1-127
// is an interworking failure, 500. The result is always a final failure
// status (400-699).
func ToSIP(q850 int) int {
	status, _, _ := ExplainToSIP(q850)
	return status
}

// ExplainToSIP is ToSIP with where the mapping comes from and, for rows
// that differ from RFC 3398 or fill one of its gaps, why.
func ExplainToSIP(q850 int) (status int, src Source, note string) {
	if q850 < 1 || q850 > MaxCause {
		return invalidCauseStatus, SourceNone, "not a Q.850 cause value (1-127): interworking failure"
	}
	row := q850Causes[q850]
	if row.status != 0 {
		return row.status, row.src, row.note
	}
	if row.src == SourceChoice {
		return classDefault[q850>>4], row.src, row.note
	}
	return classDefault[q850>>4], SourceDefault, ""
}

// FromSIP returns the Q.850 cause for a call that ends with SIP status
// status (RFC 3398 §8.2.6.1): the listed cause for a failure status, 16
// "Normal call clearing" for a 2xx (a call answered, or completed
// elsewhere), and 31 "Normal, unspecified" for every other status, listed
// or not a valid status at all.
func FromSIP(status int) int {
	c, _, _ := ExplainFromSIP(status)
	return c
}

// ExplainFromSIP is FromSIP with where the mapping comes from and, for rows
// that differ from RFC 3398 or fill one of its gaps, why.
func ExplainFromSIP(status int) (q850 int, src Source, note string) {
	if status >= 200 && status <= 299 {
		return Normal, SourceChoice, "a 2xx ends nothing by failure: normal clearing, as BYE and CANCEL (RFC 3398 §8.2.6.1)"
	}
	if row, ok := sipStatuses[status]; ok {
		return row.cause, row.src, row.note
	}
	return Unspecified, SourceDefault, ""
}

// Name returns the ITU-T Q.850 name of cause value q850, such as "User
// busy" for 17. A value Q.850 does not define is named after its class,
// such as "Cause 45 (resource unavailable)"; a value outside 1-127 is
// "Cause N".
func Name(q850 int) string {
	if q850 >= 1 && q850 <= MaxCause {
		if n := q850Causes[q850].name; n != "" {
			return n
		}
		return "Cause " + strconv.Itoa(q850) + " (" + className[q850>>4] + ")"
	}
	return "Cause " + strconv.Itoa(q850)
}

// Known reports whether ITU-T Q.850 defines cause value q850.
func Known(q850 int) bool {
	return q850 >= 1 && q850 <= MaxCause && q850Causes[q850].name != ""
}

// className names the Q.850 cause classes (cause value >> 4).
var className = [8]string{
	"normal event", "normal event", "resource unavailable",
	"service or option not available", "service or option not implemented",
	"invalid message", "protocol error", "interworking",
}
