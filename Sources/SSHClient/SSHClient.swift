// SSHClient: see its README in the module folder.
