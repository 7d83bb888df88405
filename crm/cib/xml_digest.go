package cib

import (
	"crypto/md5"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"time"
)

// defaultOpTimeout is Pacemaker's timeout for an operation that neither
// its definition nor op_defaults gives one.
const defaultOpTimeout = 20 * time.Second

// opDigest is the op-digest Pacemaker 2.1 computes for an operation of p
// (pe_digest.c calculate_main_digest): the MD5 of the sorted
// <parameters .../> element holding the resource's parameters, plus
// CRM_meta_timeout for recurring operations, printed as
// pcmk__xml2text does. With it, crm_simulate sees the history as made
// with the current parameters and schedules no restart.
func opDigest(p *Primitive, cfg *Configuration, op string, intervalMS int64) string {
	params := make(map[string]string, len(p.Params)+1)
	for k, v := range p.Params {
		params[k] = v
	}
	if intervalMS > 0 {
		params["CRM_meta_timeout"] = strconv.FormatInt(opTimeout(p, cfg, op, intervalMS).Milliseconds(), 10)
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(" <parameters")
	for _, k := range keys {
		b.WriteString(" " + k + "=\"" + pcmkEscape(params[k]) + "\"")
	}
	b.WriteString("/>\n")
	sum := md5.Sum([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// opTimeout finds an operation's timeout: its definition, then
// op_defaults, then Pacemaker's 20s.
func opTimeout(p *Primitive, cfg *Configuration, op string, intervalMS int64) time.Duration {
	for _, o := range p.Ops {
		if o.Name != op || o.Timeout == "" {
			continue
		}
		iv := time.Duration(0)
		if o.Interval != "" {
			iv, _ = ParseDuration(o.Interval)
		}
		if iv.Milliseconds() == intervalMS {
			if d, err := ParseDuration(o.Timeout); err == nil {
				return d
			}
		}
	}
	if d, err := ParseDuration(cfg.OpDefaults["timeout"]); err == nil {
		return d
	}
	return defaultOpTimeout
}

// pcmkEscape is Pacemaker 2.1's crm_xml_escape, quirks included: it
// stops escaping at the first multi-byte UTF-8 character.
func pcmkEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c&0x80 != 0 && i+1 < len(s) && s[i+1]&0x80 != 0 {
			b.WriteString(s[i:])
			break
		}
		switch c {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		case '&':
			b.WriteString("&amp;")
		case '\t':
			b.WriteString("    ")
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
