package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"
)

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// isGUID reports whether s is a GUID in its canonical textual form.
func isGUID(s string) bool { return guidRE.MatchString(s) }

// newGUID returns a random (version 4) GUID in lower case.
func newGUID() string {
	var b [16]byte
	mustRand(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func mustRand(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("sandbox: crypto/rand failed: %v", err))
	}
}

// guidBytes returns the 16 bytes of a GUID in the .NET (mixed-endian) layout.
// Entra's opaque ids for assignments and grants are base64url strings over
// exactly these bytes, so building ours the same way keeps them recognisable.
func guidBytes(g string) []byte {
	h, err := hex.DecodeString(strings.ReplaceAll(g, "-", ""))
	if err != nil || len(h) != 16 {
		h = make([]byte, 16)
		mustRand(h)
	}
	out := make([]byte, 16)
	out[0], out[1], out[2], out[3] = h[3], h[2], h[1], h[0]
	out[4], out[5] = h[5], h[4]
	out[6], out[7] = h[7], h[6]
	copy(out[8:], h[8:])
	return out
}

// opaqueID joins the .NET byte forms of the given GUIDs and base64url-encodes
// them without padding, the way Graph forms appRoleAssignment and
// oAuth2PermissionGrant ids.
func opaqueID(guids ...string) string {
	var b []byte
	for _, g := range guids {
		b = append(b, guidBytes(g)...)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// roleAssignmentID builds a unifiedRoleAssignment id the way Entra shapes
// them: base64url(roleDefinitionId ‖ principalId) followed by "-1"; a scope
// other than the tenant root adds a short scope hash so ids stay unique.
func roleAssignmentID(roleDefinitionID, principalID, scope string) string {
	b := append(guidBytes(roleDefinitionID), guidBytes(principalID)...)
	if scope != "/" {
		sum := sha256.Sum256([]byte(strings.ToLower(scope)))
		b = append(b, sum[:6]...)
	}
	return base64.RawURLEncoding.EncodeToString(b) + "-1"
}

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.~"

// newSecretText returns a 40-character client secret shaped like the ones
// Entra issues today (three characters, "8Q~", then 34 more).
func newSecretText() string {
	return randString(3, secretAlphabet[:62]) + "8Q~" + randString(34, secretAlphabet)
}

func randString(n int, alphabet string) string {
	var sb strings.Builder
	max := big.NewInt(int64(len(alphabet)))
	for i := 0; i < n; i++ {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(fmt.Sprintf("sandbox: crypto/rand failed: %v", err))
		}
		sb.WriteByte(alphabet[v.Int64()])
	}
	return sb.String()
}

// graphTime formats t the way Graph serialises directory timestamps: UTC,
// seven fractional digits, "Z".
func graphTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

// graphDate formats t without fractional seconds, as Graph does for dates it
// stores at second precision (organization.createdDateTime, credentials'
// start and end when the caller gave whole seconds).
func graphDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// errorDate is the innerError.date format: UTC without an offset.
func errorDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }

// parseGraphTime accepts the DateTimeOffset forms Graph accepts in bodies.
func parseGraphTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999Z07:00", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func encodeB64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func decodeB64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
