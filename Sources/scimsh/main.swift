import ScimshCLI
ScimshMain.main()
