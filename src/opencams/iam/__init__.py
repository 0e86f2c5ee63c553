"""RAM authorization: the Alibaba Cloud policy language (parsing, validation, evaluation), pure and I/O-free."""
