/// Why a value was refused; written as a string literal where it is made.
struct Rejection: Error, ExpressibleByStringInterpolation {
    let message: String

    init(stringLiteral value: String) { message = value }
    init(stringInterpolation: DefaultStringInterpolation) { message = String(stringInterpolation: stringInterpolation) }
}
