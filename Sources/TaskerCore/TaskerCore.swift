// Core placeholder
