package softkey

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// MinPassphraseLength is the shortest passphrase a version 2 soft key
// takes. A phone keeps its keys in secure hardware behind the device
// unlock; the soft key has only its passphrase, so it asks for more than
// four digits.
const MinPassphraseLength = 8

// Argon2id cost of a vault: 64 MiB and two passes, one lane (RFC 9106,
// section 7.4, with the memory a small computer spares). A guess costs
// every attacker the same memory, which a GPU or an ASIC cannot cheapen
// the way it cheapens PBKDF2.
const (
	vaultTime    = 2
	vaultMemory  = 64 * 1024 // KiB
	vaultThreads = 1
	vaultAAD     = "postern-softkey-vault-v2"
)

// Vault is the sealed part of a version 2 state file: every private key,
// ticket and introduction secret, as one AES-256-GCM ciphertext under a
// key argon2id derives from the passphrase.
type Vault struct {
	KDF        string `json:"kdf"` // "argon2id"
	Time       uint32 `json:"time"`
	MemoryKiB  uint32 `json:"memory_kib"`
	Threads    uint8  `json:"threads"`
	Salt       []byte `json:"salt"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

// newVault returns an empty vault with fresh parameters and its key.
func newVault(passphrase string) (Vault, []byte, error) {
	if len(passphrase) < MinPassphraseLength {
		return Vault{}, nil, fmt.Errorf("the passphrase must be at least %d characters", MinPassphraseLength)
	}
	v := Vault{KDF: "argon2id", Time: vaultTime, MemoryKiB: vaultMemory, Threads: vaultThreads, Salt: make([]byte, 16)}
	rand.Read(v.Salt)
	return v, v.key(passphrase), nil
}

// key derives the vault's AES key from the passphrase.
func (v Vault) key(passphrase string) []byte {
	return argon2.IDKey([]byte(passphrase), v.Salt, v.Time, v.MemoryKiB, v.Threads, 32)
}

// check refuses parameters a damaged or hostile file could use to make
// opening it take forever, or to weaken it.
func (v Vault) check() error {
	switch {
	case v.KDF != "argon2id":
		return fmt.Errorf("the state file's key derivation %q is not argon2id", v.KDF)
	case v.Time < 1 || v.Time > 10 || v.MemoryKiB < 19*1024 || v.MemoryKiB > 1024*1024 || v.Threads < 1 || v.Threads > 16:
		return errors.New("the state file's argon2id parameters are out of range")
	case len(v.Salt) < 16 || len(v.Nonce) != 12:
		return errors.New("the sealed part of the state file is damaged")
	}
	return nil
}

func gcmFor(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts secrets under key with a fresh nonce.
func (v *Vault) seal(key []byte, secrets any) error {
	plain, err := json.Marshal(secrets)
	if err != nil {
		return err
	}
	gcm, err := gcmFor(key)
	if err != nil {
		return err
	}
	v.Nonce = make([]byte, 12)
	rand.Read(v.Nonce)
	v.Ciphertext = gcm.Seal(nil, v.Nonce, plain, []byte(vaultAAD))
	return nil
}

// open decrypts the vault with the passphrase into secrets, returning the
// key so the caller can seal it again without another derivation.
func (v Vault) open(passphrase string, secrets any) ([]byte, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	key := v.key(passphrase)
	gcm, err := gcmFor(key)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, v.Nonce, v.Ciphertext, []byte(vaultAAD))
	if err != nil {
		return nil, ErrWrongPIN
	}
	if err := json.Unmarshal(plain, secrets); err != nil {
		return nil, fmt.Errorf("the sealed part of the state file is damaged: %v", err)
	}
	return key, nil
}
