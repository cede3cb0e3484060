package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrInvalidSpec classifies every error of ParseSpec: a malformed or
// invalid scenario file.
var ErrInvalidSpec = errors.New("invalid scenario file")

// SpecError is one problem with a scenario file: the file, the 1-based line
// and the field (a dotted path such as "workload.rate"). It prints as
//
//	flush.yaml:12: field "workload.rate": "fast" is not an integer
//
// and matches ErrInvalidSpec with errors.Is.
type SpecError struct {
	File  string
	Line  int
	Field string
	Err   error
}

func (e *SpecError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: field %q: %v", e.File, e.Line, e.Field, e.Err)
}

// Is makes every SpecError an ErrInvalidSpec.
func (e *SpecError) Is(target error) bool { return target == ErrInvalidSpec }

// Unwrap returns the cause.
func (e *SpecError) Unwrap() error { return e.Err }

// maxSpecBytes bounds a scenario file: a hostile input cannot make the
// parser build an unbounded document.
const maxSpecBytes = 1 << 20

// specDoc is a decoded file with the line of every field, for errors.
type specDoc struct {
	file  string
	spec  Spec
	lines map[string]int // field path -> line of its value
	nodes map[string]*yaml.Node
}

// errAt builds a SpecError at field path (or its nearest known parent).
func (d *specDoc) errAt(path string, format string, args ...any) error {
	line := 1
	for p := path; ; {
		if l, ok := d.lines[p]; ok {
			line = l
			break
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return &SpecError{File: d.file, Line: line, Field: path, Err: fmt.Errorf(format, args...)}
}

// decodeSpec reads a scenario file: YAML syntax, then the shape (every key
// known, every value of the right kind), then the decode itself. Semantic
// validation is compile's.
func decodeSpec(file string, data []byte) (d *specDoc, err error) {
	d = &specDoc{file: file, lines: map[string]int{}, nodes: map[string]*yaml.Node{}}
	// yaml.v3 is not documented never to panic on hostile input; a panic
	// must still come out as one clear error.
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, &SpecError{File: file, Line: 1, Err: fmt.Errorf("unreadable YAML (%v)", r)}
		}
	}()
	if len(data) > maxSpecBytes {
		return nil, &SpecError{File: file, Line: 1, Err: fmt.Errorf("file larger than %d bytes", maxSpecBytes)}
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &SpecError{File: file, Line: 1, Err: errors.New("empty file")}
		}
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &SpecError{File: file, Line: extra.Line, Err: errors.New("more than one YAML document")}
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if err := d.checkShape(doc, reflect.TypeOf(Spec{}), ""); err != nil {
		return nil, err
	}
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&d.spec); err != nil {
		return nil, yamlError(file, err)
	}
	return d, nil
}

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

// yamlError turns yaml.v3's error ("yaml: line 3: ...") into a SpecError.
func yamlError(file string, err error) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil {
			line = n
		}
		msg = m[2]
	}
	return &SpecError{File: file, Line: line, Err: errors.New(msg)}
}

// yamlName is a struct field's YAML key.
func yamlName(f reflect.StructField) string {
	tag := f.Tag.Get("yaml")
	name, _, _ := strings.Cut(tag, ",")
	return name
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var kindNames = map[yaml.Kind]string{
	yaml.DocumentNode: "a document", yaml.SequenceNode: "a list", yaml.MappingNode: "a mapping",
	yaml.ScalarNode: "a value", yaml.AliasNode: "an alias",
}

// checkShape walks the document against the Go type: unknown keys are
// errors listing the valid ones, and each value must be of the right kind.
// It records each field's line for later errors.
func (d *specDoc) checkShape(n *yaml.Node, t reflect.Type, path string) error {
	if path != "" {
		d.lines[path] = n.Line
		d.nodes[path] = n
	}
	if n.Kind == yaml.AliasNode {
		return &SpecError{File: d.file, Line: n.Line, Field: path, Err: errors.New("aliases are not supported")}
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	want := func(k yaml.Kind, what string) error {
		if n.Kind == k {
			return nil
		}
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil // an empty value: the zero value
		}
		return &SpecError{File: d.file, Line: n.Line, Field: path, Err: fmt.Errorf("expected %s, found %s", what, kindNames[n.Kind])}
	}
	switch t.Kind() {
	case reflect.Struct:
		if err := want(yaml.MappingNode, "a mapping"); err != nil {
			return err
		}
		fields := map[string]reflect.StructField{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			name := yamlName(t.Field(i))
			fields[name] = t.Field(i)
			names = append(names, name)
		}
		sort.Strings(names)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fields[k.Value]
			if !ok {
				return &SpecError{File: d.file, Line: k.Line, Field: join(path, k.Value),
					Err: fmt.Errorf("unknown field (valid: %s)", strings.Join(names, ", "))}
			}
			if seen[k.Value] {
				return &SpecError{File: d.file, Line: k.Line, Field: join(path, k.Value), Err: errors.New("given twice")}
			}
			seen[k.Value] = true
			if err := d.checkShape(v, f.Type, join(path, k.Value)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if err := want(yaml.MappingNode, "a mapping"); err != nil {
			return err
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := d.checkShape(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value)); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if err := want(yaml.SequenceNode, "a list"); err != nil {
			return err
		}
		for i, e := range n.Content {
			if err := d.checkShape(e, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	default:
		if err := want(yaml.ScalarNode, "a single value"); err != nil {
			return err
		}
	}
	return nil
}
