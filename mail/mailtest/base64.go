package mailtest

import (
	"encoding/base64"
	"io"
	"strings"
)

// base64Reader decodes a base64 body split over lines.
func base64Reader(r io.Reader) io.Reader {
	data, err := io.ReadAll(r)
	if err != nil {
		return errReader{err}
	}
	clean := strings.NewReplacer("\r", "", "\n", "").Replace(string(data))
	return base64.NewDecoder(base64.StdEncoding, strings.NewReader(clean))
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
