package socket

const (
	directionWrite = 4
	directionRead  = 2

	directionShift = 29
	sizeShift      = 16
	typeShift      = 8
)
