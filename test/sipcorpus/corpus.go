package sipcorpus

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Case is one row of the expectations file with the message it names.
type Case struct {
	// File is the corpus path relative to the directory, e.g.
	// "rfc4475/wsinv.dat".
	File string
	// UDP is the outcome when the message is one UDP datagram.
	UDP string
	// TCP is the outcome when the message is the whole content of a TCP
	// stream.
	TCP string
	// Server is what a running server answers instead of "accept" (its
	// handlers: OPTIONS 200, registrar 401), or "-" when UDP/TCP stand.
	Server string
	// Note says why.
	Note string
	// Data is the message, byte-exact.
	Data []byte
}

// Want returns the expected outcome of the read stages (filter, parser,
// validation) for transport "udp" or "tcp".
func (c Case) Want(transport string) string {
	if transport == "tcp" {
		return c.TCP
	}
	return c.UDP
}

// WantServer returns the expected outcome from a running server for
// transport "udp" or "tcp": the server column where it is set, else Want.
func (c Case) WantServer(transport string) string {
	if c.Server != "" && c.Server != "-" {
		return c.Server
	}
	return c.Want(transport)
}

// codeRE finds status codes in the RFC's expectation text.
var codeRE = regexp.MustCompile(`\b[1-6][0-9][0-9]\b`)

// Load reads dir/expect.tsv and the messages it names, and checks the rows
// against the corpus' own dir/*/EXPECTATIONS.tsv: every message listed
// there has exactly one row, and where the RFC's text names status codes,
// every code in the udp and tcp columns is one of them (the server column
// holds what handlers answer to accepted messages and is not checked).
// Every problem found is reported in the error.
func Load(dir string) ([]Case, error) {
	rfcText := map[string]string{}
	listed, err := filepath.Glob(filepath.Join(dir, "*", "EXPECTATIONS.tsv"))
	if err != nil {
		return nil, fmt.Errorf("sipcorpus: %w", err)
	}
	if len(listed) == 0 {
		return nil, fmt.Errorf("sipcorpus: no %s", filepath.Join(dir, "*", "EXPECTATIONS.tsv"))
	}
	for _, p := range listed {
		rows, err := readTSV(p)
		if err != nil {
			return nil, err
		}
		sub := filepath.Base(filepath.Dir(p))
		for _, row := range rows {
			rfcText[sub+"/"+row[0]] = row[len(row)-1]
		}
	}
	rows, err := readTSV(filepath.Join(dir, "expect.tsv"))
	if err != nil {
		return nil, err
	}
	var cases []Case
	var errs []error
	for _, row := range rows {
		if len(row) != 5 {
			errs = append(errs, fmt.Errorf("expect.tsv row %q: want 5 columns, got %d", row, len(row)))
			continue
		}
		c := Case{File: row[0], UDP: row[1], TCP: row[2], Server: row[3], Note: row[4]}
		text, ok := rfcText[c.File]
		if !ok {
			errs = append(errs, fmt.Errorf("expect.tsv names %s, which no EXPECTATIONS.tsv lists (or it has two rows)", c.File))
			continue
		}
		delete(rfcText, c.File)
		if codes := codeRE.FindAllString(text, -1); len(codes) > 0 {
			for _, got := range []string{c.UDP, c.TCP} {
				for _, tok := range strings.Split(got, "+") {
					if _, err := strconv.Atoi(tok); err == nil && !slices.Contains(codes, tok) {
						errs = append(errs, fmt.Errorf("%s: expect.tsv says %s, the RFC expects one of %v (%q)", c.File, tok, codes, text))
					}
				}
			}
		}
		if c.Data, err = os.ReadFile(filepath.Join(dir, c.File)); err != nil {
			errs = append(errs, fmt.Errorf("sipcorpus: %w", err))
			continue
		}
		cases = append(cases, c)
	}
	missing := make([]string, 0, len(rfcText))
	for f := range rfcText {
		missing = append(missing, f)
	}
	slices.Sort(missing)
	for _, f := range missing {
		errs = append(errs, fmt.Errorf("%s has no row in expect.tsv", f))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("sipcorpus: %s: %w", dir, errors.Join(errs...))
	}
	return cases, nil
}

// readTSV returns the rows of a tab-separated file, skipping blank lines,
// "#" comments and the first remaining line (the column names).
func readTSV(path string) ([][]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sipcorpus: %w", err)
	}
	defer fh.Close()
	var rows [][]string
	sc := bufio.NewScanner(fh)
	header := true
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if header {
			header = false
			continue
		}
		rows = append(rows, strings.Split(line, "\t"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("sipcorpus: %s: %w", path, err)
	}
	return rows, nil
}
