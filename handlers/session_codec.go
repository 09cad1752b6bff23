package handlers

import (
	"encoding/binary"
	"errors"

	"github.com/gorilla/securecookie"
)

// sessionSerializer encodes the cookie session's values (string keys;
// string values, or the flashes' list of strings) in a small binary form
// instead of gob: gob builds its type decoders anew for every cookie, and
// that was a twentieth of a respondent's page. Anything else falls back
// to gob, and a cookie that does not start with the marker (one written
// by an earlier version) is read as gob, so no session is lost.
//
// Form: "\x00fp1", then per entry: key, kind byte ('s' string, 'l' list
// of strings), then the string, or a count and the strings; every string
// is a uvarint length and its bytes. The cookie is signed and encrypted
// by securecookie around this, as before.
type sessionSerializer struct{ gob securecookie.GobEncoder }

const sessionMarker = "\x00fp1"

var errSessionFormat = errors.New("session: malformed cookie value")

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func (z sessionSerializer) Serialize(src any) ([]byte, error) {
	m, ok := src.(map[any]any)
	if !ok {
		return z.gob.Serialize(src)
	}
	b := make([]byte, 0, 128)
	b = append(b, sessionMarker...)
	for k, v := range m {
		ks, ok := k.(string)
		if !ok {
			return z.gob.Serialize(src)
		}
		switch x := v.(type) {
		case string:
			b = appendStr(b, ks)
			b = append(b, 's')
			b = appendStr(b, x)
		case []any:
			b = appendStr(b, ks)
			b = append(b, 'l')
			b = binary.AppendUvarint(b, uint64(len(x)))
			for _, e := range x {
				es, ok := e.(string)
				if !ok {
					return z.gob.Serialize(src)
				}
				b = appendStr(b, es)
			}
		default:
			return z.gob.Serialize(src)
		}
	}
	return b, nil
}

func (z sessionSerializer) Deserialize(src []byte, dst any) error {
	if len(src) < len(sessionMarker) || string(src[:len(sessionMarker)]) != sessionMarker {
		return z.gob.Deserialize(src, dst)
	}
	p, ok := dst.(*map[any]any)
	if !ok {
		return errSessionFormat
	}
	m := *p
	if m == nil {
		m = map[any]any{}
		*p = m
	}
	b := src[len(sessionMarker):]
	str := func() (string, bool) {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return "", false
		}
		s := string(b[w : w+int(n)])
		b = b[w+int(n):]
		return s, true
	}
	for len(b) > 0 {
		k, ok := str()
		if !ok || len(b) == 0 {
			return errSessionFormat
		}
		kind := b[0]
		b = b[1:]
		switch kind {
		case 's':
			v, ok := str()
			if !ok {
				return errSessionFormat
			}
			m[k] = v
		case 'l':
			n, w := binary.Uvarint(b)
			if w <= 0 || n > uint64(len(b)) {
				return errSessionFormat
			}
			b = b[w:]
			list := make([]any, 0, n)
			for i := uint64(0); i < n; i++ {
				v, ok := str()
				if !ok {
					return errSessionFormat
				}
				list = append(list, v)
			}
			m[k] = list
		default:
			return errSessionFormat
		}
	}
	return nil
}
