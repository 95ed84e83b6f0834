// AMQPClient: see its README in the module folder.
