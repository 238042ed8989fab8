// ServerConfiguration lives in the settings target below the server; importing DogpiledServer
// keeps giving it, so code that starts a server needs one import.
@_exported import DogpiledSettings
