// The dogpiled daemon. All logic lives in DogpiledCommand and the DogpiledServer module.
DogpiledCommand.main()
