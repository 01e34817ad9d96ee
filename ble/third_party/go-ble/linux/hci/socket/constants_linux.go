//go:build !mips
// +build !mips

package socket

const (
	directionWrite = 1
	directionRead  = 2

	directionShift = 30
	sizeShift      = 16
	typeShift      = 8
)
