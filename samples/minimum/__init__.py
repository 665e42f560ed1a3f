"""The smallest complete pamiq-core system: learning a hidden value while acting."""
