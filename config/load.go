package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads the YAML file at path, expands ${ENV} and ${ENV:-default} in its
// values, decodes it strictly (an unknown key is an error naming file, line and
// key), applies defaults and validates the result.
//
// Passwords left empty are not filled here: call ResolvePasswords after Load.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return parse(path, data, os.LookupEnv)
}

// Parse is Load for a configuration already in memory; name is used in error
// messages in place of a file name. It expands variables from the process
// environment.
func Parse(name string, data []byte) (*Config, error) {
	return parse(name, data, os.LookupEnv)
}

// parse decodes, defaults and validates data; getenv resolves ${NAME}.
func parse(name string, data []byte, getenv func(string) (string, bool)) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(trimBOM(data), &doc); err != nil {
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty configuration", name)
	}
	c := &Config{Path: name, lines: make(map[string]int)}
	w := walker{file: name, getenv: getenv, lines: c.lines}
	w.walk(doc.Content[0], reflect.TypeOf(*c), "")
	if len(w.errs) > 0 {
		return nil, errors.Join(w.errs...)
	}
	if err := doc.Decode(c); err != nil {
		return nil, c.decodeError(err)
	}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// walker checks a YAML tree against the Config type before decoding: it
// reports unknown keys with their line and path, records the line of every
// key for later messages, and expands ${ENV} in scalar values in place.
//
// yaml.v3's own KnownFields check reports "field foo not found in type
// config.SIP" without the key's path and is unavailable through Node.Decode,
// which we need because expansion happens on nodes (expanding the raw text
// would let a variable's value inject YAML syntax).
type walker struct {
	file   string
	getenv func(string) (string, bool)
	lines  map[string]int
	errs   []error
	// inAlias holds the anchors being walked, to stop at a self-reference.
	inAlias map[*yaml.Node]bool
}

// noExpand lists the key paths whose values are kept verbatim: regular
// expressions and rewrite templates use $ and ${name} themselves.
var noExpand = regexp.MustCompile(`^routes\[\d+\]\.(match|rewrite)$`)

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		if w.inAlias[n.Alias] {
			w.errs = append(w.errs, fmt.Errorf("%s:%d: %s: alias *%s refers to itself", w.file, n.Line, path, n.Value))
			return
		}
		if w.inAlias == nil {
			w.inAlias = make(map[*yaml.Node]bool)
		}
		w.inAlias[n.Alias] = true
		defer delete(w.inAlias, n.Alias)
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.MappingNode:
		if t.Kind() == reflect.Struct {
			w.walkStruct(n, t, path)
			return
		}
		if t.Kind() == reflect.Map {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := join(path, k.Value)
				w.lines[p] = k.Line
				w.walk(v, t.Elem(), p)
			}
		}
		// Any other type: leave the mismatch for the decoder to report.
	case yaml.SequenceNode:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i, item := range n.Content {
				p := path + "[" + strconv.Itoa(i) + "]"
				w.lines[p] = item.Line
				w.walk(item, t.Elem(), p)
			}
		}
	case yaml.ScalarNode:
		if noExpand.MatchString(path) || !strings.Contains(n.Value, "${") {
			return
		}
		v, err := expandEnv(n.Value, w.getenv)
		if err != nil {
			w.errs = append(w.errs, fmt.Errorf("%s:%d: %s: %w", w.file, n.Line, path, err))
			return
		}
		n.Value = v
		// Type the expanded text by its destination, quoted or not: a
		// string field keeps it verbatim (a password "null" or "0x1" stays
		// text), any other field lets the decoder resolve it ("${N:-10}"
		// becomes an int, "${T:-30s}" a duration).
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() == reflect.String {
			n.Tag = "!!str"
		} else {
			n.Tag = ""
			n.Style &^= yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle
		}
	}
}

func (w *walker) walkStruct(n *yaml.Node, t reflect.Type, path string) {
	fields := yamlFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" { // YAML merge key: check the merged mapping(s)
			w.walk(v, t, path)
			continue
		}
		p := join(path, k.Value)
		f, ok := fields[k.Value]
		if !ok {
			where := "at top level"
			if path != "" {
				where = "in " + path
			}
			w.errs = append(w.errs, fmt.Errorf("%s:%d: unknown key %q %s%s", w.file, k.Line, k.Value, where, suggest(k.Value, fields)))
			continue
		}
		w.lines[p] = k.Line
		w.walk(v, f.Type, p)
	}
}

// yamlFields maps YAML key names to struct fields the way yaml.v3 does
// (tag name, else the lower-cased field name; "-" skipped; ",inline" flattened).
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	m := make(map[string]reflect.StructField)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range yamlFields(ft) {
					m[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f
	}
	return m
}

// suggest names the closest known key when the unknown one looks like a typo.
func suggest(key string, fields map[string]reflect.StructField) string {
	best, bestD := "", 3
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if d := editDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance; keys are short, so the quadratic
// table is fine.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// envName matches a POSIX shell variable name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expandEnv replaces ${NAME} with the variable's value (empty when unset) and
// ${NAME:-default} with the value, or default when the variable is unset or
// empty (the shell's meaning of ":-"). Any other "$" is literal. The default
// cannot contain "}".
//
// os.Expand is not used because it also expands bare $NAME (breaking values
// that contain a literal dollar) and has no ":-" form.
func expandEnv(s string, getenv func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		rest := s[i+2:]
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ in %q", s)
		}
		expr := rest[:end]
		name, def, hasDef := strings.Cut(expr, ":-")
		if !envName.MatchString(name) {
			return "", fmt.Errorf("bad variable name %q in ${%s}", name, expr)
		}
		v, _ := getenv(name)
		if v == "" && hasDef {
			v = def
		}
		b.WriteString(v)
		s = rest[end+1:]
	}
}

// lineRe finds yaml.v3's "line N: " prefix in a decode error.
var lineRe = regexp.MustCompile(`^line (\d+): (.*)$`)

// decodeError rewrites yaml.v3's "line N: cannot unmarshal ..." messages as
// "file:N: key: cannot unmarshal ...", naming the key found on that line.
func (c *Config) decodeError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("%s: %w", c.Path, err)
	}
	byLine := make(map[int]string)
	for p, l := range c.lines {
		// The longest path on a line is the most specific key.
		if len(p) > len(byLine[l]) {
			byLine[l] = p
		}
	}
	errs := make([]error, 0, len(te.Errors))
	for _, msg := range te.Errors {
		m := lineRe.FindStringSubmatch(msg)
		if m == nil {
			errs = append(errs, fmt.Errorf("%s: %s", c.Path, msg))
			continue
		}
		l, _ := strconv.Atoi(m[1])
		if key := byLine[l]; key != "" {
			errs = append(errs, fmt.Errorf("%s:%d: %s: %s", c.Path, l, key, m[2]))
		} else {
			errs = append(errs, fmt.Errorf("%s:%d: %s", c.Path, l, m[2]))
		}
	}
	return errors.Join(errs...)
}

// where formats "file:line: key" for messages about key (a path such as
// "routes[2].to"); the line is the key's own, else its nearest ancestor's.
func (c *Config) where(key string) string {
	for p := key; p != ""; p = parent(p) {
		if l, ok := c.lines[p]; ok {
			return fmt.Sprintf("%s:%d: %s", c.Path, l, key)
		}
	}
	if c.Path == "" {
		return key
	}
	return c.Path + ": " + key
}

// parent strips the last element of a key path.
func parent(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// hasKey reports whether key was written in the file (as opposed to defaulted).
func (c *Config) hasKey(key string) bool {
	_, ok := c.lines[key]
	return ok
}

// trimBOM drops a UTF-8 byte order mark some editors write.
func trimBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) }
