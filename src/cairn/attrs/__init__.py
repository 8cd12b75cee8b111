"""Attributes: four scopes (global, os, appliance, host), resolution with source
tags, the seed's escaping, and the checks for well-known attribute names.
"""
