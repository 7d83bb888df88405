package cib

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// XMLProblem is one thing pacer cannot read in a Pacemaker CIB document,
// with the line it is on (0 when unknown).
type XMLProblem struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

func (p XMLProblem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: %s", p.Line, p.Message)
	}
	return p.Message
}

// XMLError lists every problem ImportXML found, so a user fixes the
// document in one go.
type XMLError struct {
	Problems []XMLProblem
}

func (e *XMLError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// elementLines is the first pass over the document: the line of every
// start tag, in document order. etree keeps no positions, but it builds
// its elements from the same encoding/xml tokens in the same order, so
// the k-th element of a pre-order walk of the tree started on lines[k].
// A document that is not well-formed fails here with its line.
func elementLines(data []byte) ([]int, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	var lines []int
	type open struct {
		name string
		line int
	}
	var stack []open
	bad := func(line int, format string, args ...any) error {
		return &XMLError{Problems: []XMLProblem{{Line: line, Message: "not well-formed XML: " + fmt.Sprintf(format, args...)}}}
	}
	for {
		// Before the token is read the decoder stands just past the
		// previous one, i.e. at the '<' of a start tag.
		line, _ := d.InputPos()
		tok, err := d.RawToken()
		if err == io.EOF {
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				return nil, bad(top.line, "<%s> is never closed", top.name)
			}
			return lines, nil
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, &XMLError{Problems: []XMLProblem{{Line: se.Line, Message: "not well-formed XML: " + se.Msg}}}
			}
			return nil, &XMLError{Problems: []XMLProblem{{Line: line, Message: "not well-formed XML: " + err.Error()}}}
		}
		// RawToken does not match end tags to start tags; etree does,
		// but without a line, so check here.
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 && len(lines) > 0 {
				return nil, bad(line, "a second root element <%s>: a CIB document has one <cib>", qname(t.Name))
			}
			lines = append(lines, line)
			stack = append(stack, open{qname(t.Name), line})
		case xml.EndElement:
			end, _ := d.InputPos()
			if len(stack) == 0 {
				return nil, bad(end, "</%s> closes nothing", qname(t.Name))
			}
			if top := stack[len(stack)-1]; top.name != qname(t.Name) {
				return nil, bad(end, "</%s> closes <%s> of line %d", qname(t.Name), top.name, top.line)
			}
			stack = stack[:len(stack)-1]
		}
	}
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// xmlIn walks an etree document into the typed model, collecting
// problems instead of stopping at the first.
type xmlIn struct {
	line  map[*etree.Element]int
	probs []XMLProblem
}

func newXMLIn(root *etree.Element, lines []int) *xmlIn {
	x := &xmlIn{line: make(map[*etree.Element]int, len(lines))}
	k := 0
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		if k < len(lines) {
			x.line[e] = lines[k]
		}
		k++
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(root)
	return x
}

func (x *xmlIn) errf(e *etree.Element, format string, args ...any) {
	x.probs = append(x.probs, XMLProblem{Line: x.line[e], Message: fmt.Sprintf(format, args...)})
}

func tagName(e *etree.Element) string { return e.FullTag() }

// kids returns e's child elements, reporting every one whose tag is not
// in allowed (space-separated).
func (x *xmlIn) kids(e *etree.Element, allowed string) []*etree.Element {
	ok := strings.Fields(allowed)
	var out []*etree.Element
	for _, c := range e.ChildElements() {
		if c.Space == "" && contains(ok, c.Tag) {
			out = append(out, c)
			continue
		}
		if len(ok) == 0 {
			x.errf(c, "<%s> is not supported by pacer (<%s> takes no child elements)", tagName(c), tagName(e))
		} else {
			x.errf(c, "<%s> is not supported by pacer (supported in <%s>: %s)", tagName(c), tagName(e), strings.Join(ok, ", "))
		}
	}
	return out
}

// attrs reports every attribute of e that is neither known (read by the
// caller) nor ignored (informational: Pacemaker bookkeeping that does not
// change what the cluster does). Both lists are space-separated.
func (x *xmlIn) attrs(e *etree.Element, known, ignored string) {
	k, ig := strings.Fields(known), strings.Fields(ignored)
	for _, a := range e.Attr {
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			continue
		}
		if a.Space == "" && (contains(k, a.Key) || contains(ig, a.Key)) {
			continue
		}
		x.errf(e, "attribute %s of <%s> is not supported by pacer (supported: %s)", a.FullKey(), tagName(e), strings.Join(k, ", "))
	}
}

// only reports an attribute whose value pacer cannot honour; want lists
// the accepted values (compared case-insensitively).
func (x *xmlIn) only(e *etree.Element, attr string, want ...string) {
	a := e.SelectAttr(attr)
	if a == nil {
		return
	}
	for _, w := range want {
		if strings.EqualFold(a.Value, w) {
			return
		}
	}
	x.errf(e, "%s=%q on <%s> is not supported by pacer (supported: %s)", attr, a.Value, tagName(e), strings.Join(want, ", "))
}

// need returns a required attribute, reporting it when missing.
func (x *xmlIn) need(e *etree.Element, attr string) string {
	a := e.SelectAttr(attr)
	if a == nil || a.Value == "" {
		x.errf(e, "<%s> needs a %s attribute", tagName(e), attr)
		return ""
	}
	return a.Value
}

func attr(e *etree.Element, name string) string { return e.SelectAttrValue(name, "") }

// int64Attr reads an integer attribute (0 when absent).
func (x *xmlIn) int64Attr(e *etree.Element, name string) int64 {
	v := attr(e, name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		x.errf(e, "%s=%q on <%s> is not an integer", name, v, tagName(e))
	}
	return n
}

// timeAttr reads an epoch-seconds attribute (zero time when absent).
func (x *xmlIn) timeAttr(e *etree.Element, name string) time.Time {
	if attr(e, name) == "" {
		return time.Time{}
	}
	return time.Unix(x.int64Attr(e, name), 0).UTC()
}

// boolAttr reads a Pacemaker boolean; a number counts as a timestamp
// (non-zero: true), as newer Pacemaker writes in_ccm and crmd.
func (x *xmlIn) boolAttr(e *etree.Element, name string, words map[string]bool) bool {
	v := strings.TrimSpace(attr(e, name))
	if v == "" {
		return false
	}
	if b, ok := words[strings.ToLower(v)]; ok {
		return b
	}
	if b, ok := parseBool(v); ok {
		return b
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n > 0
	}
	x.errf(e, "%s=%q on <%s> is neither a boolean nor a timestamp", name, v, tagName(e))
	return false
}

// nvset merges one <instance_attributes>/<meta_attributes>/... set into
// m. Pacemaker lets the first set that defines a name win; sets are read
// in document order.
func (x *xmlIn) nvset(e *etree.Element, m map[string]string) map[string]string {
	x.attrs(e, "id", "score")
	if e.SelectAttr("id-ref") != nil {
		x.errf(e, "references (id-ref) in <%s> are not supported by pacer: copy the set here", tagName(e))
	}
	for _, nv := range x.kids(e, "nvpair") {
		x.attrs(nv, "id name value", "")
		if nv.SelectAttr("id-ref") != nil {
			x.errf(nv, "references (id-ref) in <nvpair> are not supported by pacer: give the name and value")
			continue
		}
		name := x.need(nv, "name")
		if name == "" {
			continue
		}
		if m == nil {
			m = map[string]string{}
		}
		if _, dup := m[name]; !dup {
			m[name] = attr(nv, "value")
		}
	}
	return m
}
